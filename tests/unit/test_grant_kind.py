"""The grant workflow: granted through the same path as every command, checked against the plan
(RD Plan ¶3–¶7), each refusal citing its clause; the expiry is a timer."""

from __future__ import annotations

from typing import Any

import pytest
from fact_flow import FMP, RD_ISO, RD_NSO, FactFlow, fmp_grant, rd_facts, rd_grant
from kind_flow import at, event, types

from workflows.kernel import refusal_status


def granted(terms_id: str = RD_ISO, facts: Any = None, **payload: Any) -> FactFlow:
    flow = FactFlow("grant", terms_id, rd_facts() if facts is None else facts)
    body = fmp_grant(**payload) if terms_id == FMP else rd_grant(**payload)
    flow.send("grant_option", "board", "1993-03-01T10:00", body, reference="BR-1993-03")
    return flow


def refused(terms_id: str = RD_ISO, facts: Any = None, **payload: Any) -> Any:
    flow = FactFlow("grant", terms_id, rd_facts() if facts is None else facts)
    body = fmp_grant(**payload) if terms_id == FMP else rd_grant(**payload)
    r = flow.refused("grant_option", "board", "1993-03-01T10:00", body)
    assert flow.state is None
    return r


def test_rd_iso_grant_runs_to_the_tenth_anniversary_less_one_day() -> None:
    flow = granted()
    assert flow.state == "outstanding"
    e = event(flow.last, "option_granted")
    assert (e["option_type"], e["expiration_date"]) == ("iso", "2003-02-28")
    assert (
        e["deadline"]["derivation"]
        == "RD ISO ¶1(h); RD Plan ¶7(B): Option Term Date 2003-02-28 → 2003-02-28 23:59 PST"
    )
    assert flow.deadline("option_expiry") == at("2003-02-28T23:59:59.999999")
    assert e["initial_exercise_date"] == "1993-04-30"  # RD ISO ¶1(e): the Initial Vesting Date
    checks = {c["clause"]: c["text"] for c in e["checks"]}
    assert checks["RD ISO ¶1(h); RD Plan ¶7(B)"].endswith(
        "10th anniversary less one day → 2003-02-28"
    )
    # the price cites the FMV determination it used
    assert checks["RD Plan ¶6(A)"] == (
        "price $0.20 ≥ 100% of the Board's FMV $0.20 (determined 1993-02-15, BR-1993-02, board "
        "good faith) = $0.20"
    )
    assert checks["RD Plan ¶4"] == "4,800 of 406,280 shares free"
    assert flow.data["resolution"] == "BR-1993-03"


def test_a_leap_day_grant_ends_on_the_27th_of_february() -> None:
    facts = rd_facts()
    facts["fmv"]["effective_on"] = "1996-01-01"
    flow = granted(grant_date="1996-02-29", initial_vesting_date="1996-04-30", facts=facts)
    assert flow.data["expiration_date"] == "2006-02-27"


def test_rd_nso_is_exercisable_one_year_after_grant() -> None:
    flow = granted(RD_NSO, exercise_price="0.17")  # 85% of $0.20
    assert flow.data["initial_exercise_date"] == "1994-03-01"


@pytest.mark.parametrize(
    ("terms_id", "payload", "words"),
    [
        (RD_ISO, {"exercise_price": "0.19"}, "below 100% of the Board's FMV $0.20"),
        (RD_NSO, {"exercise_price": "0.16"}, "below 85% of the Board's FMV $0.20"),
        (
            RD_ISO,
            {"exercise_price": "0.21", "ten_percent_owner": True, "expiration_date": "1998-02-28"},
            "below 110% of the Board's FMV $0.20",
        ),
    ],
)
def test_the_price_floor_is_refused_citing_rd_plan_6a(
    terms_id: str, payload: dict[str, Any], words: str
) -> None:
    r = refused(terms_id, **payload)
    assert (r.rule, refusal_status(r.code)) == ("RD Plan ¶6(A)", 409)
    assert words in r.reason


def test_a_ten_percent_owner_gets_five_years_at_most() -> None:
    r = refused(exercise_price="0.22", ten_percent_owner=True)  # the standard term: 10 years
    assert r.rule == "RD Plan ¶6(B)" and "at most 5 years" in r.reason
    assert "its last day is 1998-02-28, not 2003-02-28" in r.reason
    ok = granted(exercise_price="0.22", ten_percent_owner=True, expiration_date="1998-02-28")
    assert ok.state == "outstanding"


def test_no_option_runs_past_ten_years() -> None:
    r = refused(expiration_date="2003-03-01")
    assert r.rule == "RD Plan ¶6(B)" and "at most 10 years" in r.reason


def test_the_share_reserve_counts_what_is_committed() -> None:
    r = refused(facts=rd_facts(shares_committed=506_000))
    assert r.rule == "RD Plan ¶4" and "280 may be granted, not 4,800" in r.reason


def test_no_grant_ten_years_after_the_plan_was_adopted() -> None:
    late = rd_facts() | {"fmv": {**rd_facts()["fmv"], "effective_on": "2002-01-01"}}
    r = refused(facts=late, grant_date="2002-06-01", initial_vesting_date="2002-07-01")
    assert r.rule == "RD Plan ¶5" and "within 10 years from 1992-06-01" in r.reason
    flow = granted(facts=late, grant_date="2002-05-31", initial_vesting_date="2002-07-01")
    assert flow.state == "outstanding"


def test_the_earlier_of_adoption_and_approval_starts_the_granting_period() -> None:
    facts = rd_facts(adopted_on="1993-01-01", shareholders_approved_on="1992-01-01")
    facts["fmv"]["effective_on"] = "2001-12-01"
    r = refused(facts=facts, grant_date="2002-01-01", initial_vesting_date="2002-02-01")
    assert r.rule == "RD Plan ¶5" and "from 1992-01-01" in r.reason


def test_an_fmv_determined_after_the_grant_date_is_not_in_force() -> None:
    facts = rd_facts()
    facts["fmv"]["effective_on"] = "1993-03-02"
    r = refused(facts=facts)
    assert r.rule == "RD Plan ¶6(A)" and "not yet in force" in r.reason


def test_without_the_facts_the_rd_grant_is_refused_naming_what_is_missing() -> None:
    r = refused(facts={})
    assert (r.rule, r.code, refusal_status(r.code)) == ("RD Plan ¶6(A)", "facts_unavailable", 409)
    assert "fair market value" in r.reason


def test_an_iso_goes_only_to_an_employee() -> None:
    r = refused(service="consultant")
    assert r.rule == "RD Plan ¶3" and "only to: employee" in r.reason
    assert granted(RD_NSO, exercise_price="0.17", service="consultant").state == "outstanding"


def test_the_schedule_is_the_one_the_terms_call_for() -> None:
    r = refused(initial_vesting_date=None, installments=[{"on": "1994-01-01", "shares": 4800}])
    assert r.rule == "RD ISO ¶1(g)"


# -- FMP: the certificate --------------------------------------------------------------------


def test_fmp_grant_needs_no_plan_facts_and_states_its_expiration() -> None:
    flow = granted(FMP, facts={})
    e = event(flow.last, "option_granted")
    assert e["vesting"]["kind"] == "installments" and e["initial_exercise_date"] is None
    assert e["deadline"]["at"].startswith("2036-01-15T23:59:59")
    r = refused(FMP, facts={}, expiration_date=None)
    assert r.rule.startswith("FMP §2") and "expiration_date is required" in r.reason


def test_fmp_installments_add_up_to_the_grant() -> None:
    r = refused(FMP, facts={}, installments=[{"on": "2027-01-15", "shares": 999}])
    assert r.rule == "FMP §3(a)" and "999 shares, not the 1,000" in r.reason


def test_fmp_grants_non_statutory_options_only() -> None:
    r = refused(FMP, facts={}, option_type="iso")
    assert r.rule == "FMP Certificate (a non-statutory stock option)"


# -- the contract: parties, shape, leaves, expiry ---------------------------------------------


def test_only_the_company_or_the_board_grants() -> None:
    flow = FactFlow("grant", RD_ISO, rd_facts())
    r = flow.refused("grant_option", "owner", "1993-03-01T10:00", rd_grant())
    assert r.code == "not_authorised" and r.rule == "RD Plan ¶2, ¶6"


def test_a_misspelt_field_is_422_naming_it() -> None:
    r = FactFlow("grant", RD_ISO, rd_facts()).refused(
        "grant_option", "board", "1993-03-01T10:00", rd_grant(share=10)
    )
    assert refusal_status(r.code) == 422 and "payload.share is not a field" in r.reason


def test_unreadable_facts_are_refused_as_the_engines_fault() -> None:
    r = refused(facts={"fmv": {"price_per_share": "cheap"}})
    assert r.code == "unreadable_facts" and "fmv.price_per_share" in r.reason


def test_a_recorded_leave_says_when_it_ends_employment() -> None:
    flow = granted()
    flow.send("record_leave", "company", "1994-01-10T09:00", {"starts_on": "1994-01-10"})
    e = event(flow.last, "leave_recorded")
    assert (e["employment_ends_on"], e["clause"]) == ("1994-04-10", "RD ISO ¶7(e)")
    flow.send(
        "record_leave",
        "company",
        "1994-02-10T09:00",
        {"starts_on": "1994-01-10", "ends_on": "1994-02-09"},
    )
    assert flow.data["leaves"] == [
        {
            "starts_on": "1994-01-10",
            "ends_on": "1994-02-09",
            "vesting_credit": False,
            "reemployment_guaranteed": False,
        }
    ]
    assert event(flow.last, "leave_recorded")["employment_ends_on"] is None


def test_the_option_expires_by_its_timer() -> None:
    flow = granted()
    d = flow.fire("option_expiry")
    assert flow.state == "expired" and not d.final  # its exercises under way still record
    assert types(d) == ["option_expired"]
    r = flow.refused("record_leave", "company", "2003-03-01T09:00", {"starts_on": "2003-03-01"})
    assert r.code == "wrong_state" and "while the option is expired" in r.reason


def test_a_leave_before_any_grant_is_refused_for_its_state() -> None:
    r = FactFlow("grant", RD_ISO, rd_facts()).refused(
        "record_leave", "company", "1994-01-10T09:00", {"starts_on": "1994-01-10"}
    )
    assert (r.code, refusal_status(r.code)) == ("wrong_state", 409)
