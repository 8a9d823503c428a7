"""The termination workflow: the unvested part forfeited, the window from the terms with its
derivation, capped by the expiration, the RD extensions, and the timer that ends it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from fact_flow import FMP, RD_ISO, RD_NSO, FactFlow, fmp_grant, rd_facts, rd_grant
from kind_flow import at, event, types

from workflows.grants.facts import Claim, GrantFacts, open_at
from workflows.grants.register import facts_of
from workflows.kernel import SendToEach, refusal_status


def grant_facts(terms_id: str, exercised: int = 0, **payload: Any) -> GrantFacts:
    """A grant made through the grant workflow, as the register view will hand it over."""
    flow = FactFlow("grant", terms_id, {} if terms_id == FMP else rd_facts())
    body = fmp_grant(**payload) if terms_id == FMP else rd_grant(**payload)
    flow.send("grant_option", "board", "1993-03-01T10:00", body)
    return facts_of("g-1", flow.data, exercised=exercised)


def fmp_facts(**payload: Any) -> GrantFacts:
    return grant_facts(FMP, **payload)


def rd_2027(terms_id: str = RD_ISO, **payload: Any) -> GrantFacts:
    """An RD grant of 2026-01-01 (Initial Vesting Date 2026-01-31), Option Term 2035-12-31."""
    facts = rd_facts()
    facts["fmv"]["effective_on"] = "2025-12-01"
    flow = FactFlow("grant", terms_id, facts)
    body = rd_grant(grant_date="2026-01-01", initial_vesting_date="2026-01-31", **payload)
    facts["plan"]["adopted_on"] = "2020-01-01"
    flow.send("grant_option", "board", "2026-01-01T10:00", body)
    return facts_of("g-1", flow.data)


def terminate(
    facts: GrantFacts, terms_id: str, now: str, party: str = "company", **payload: Any
) -> FactFlow:
    flow = FactFlow("termination", terms_id, facts)
    flow.send("terminate_service", party, now, {"grant": "g-1", **payload})
    return flow


# -- FMP §5 ----------------------------------------------------------------------------------


def test_fmp_without_cause_30_days_vested_part_kept_the_rest_forfeited() -> None:
    flow = terminate(
        fmp_facts(exercised=100),
        FMP,
        "2027-01-16T09:00",
        reason="without_cause",
        terminated_on="2027-01-15",
    )
    d = flow.last
    assert d is not None and flow.state == "window_open"
    assert types(d) == [
        "service_terminated",
        "unvested_shares_forfeited",
        "post_termination_window_opened",
    ]
    assert event(d, "service_terminated")["exercisable"] == 150  # 250 vested on the day, 100 used
    assert event(d, "unvested_shares_forfeited")["shares"] == 750
    window = event(d, "post_termination_window_opened")["deadline"]
    assert (
        window["derivation"] == "FMP §5(a): terminated 2027-01-15 + 30 days → 2027-02-14 23:59 PST"
    )
    assert flow.deadline("exercise_window_end") == at("2027-02-14T23:59:59.999999")
    closed = flow.fire("exercise_window_end")
    assert flow.state == "window_closed"
    assert event(closed, "post_termination_window_closed")["unexercised_expired"] == 150


def test_fmp_for_cause_terminates_the_option_at_once() -> None:
    flow = terminate(
        fmp_facts(),
        FMP,
        "2027-06-01T09:00",
        reason="for_cause",
        terminated_on="2027-06-01",
        effective_at="2027-06-01T08:30:00-07:00",
    )
    assert flow.state == "window_closed" and not flow.timers
    e = event(flow.last, "post_termination_window_closed")
    assert e["deadline"]["derivation"] == (
        "FMP §5(c): terminated for cause 2027-06-01: the option terminated immediately → "
        "2027-06-01 08:30 PDT"
    )


def test_fmp_disability_needs_proof_then_six_months() -> None:
    flow = FactFlow("termination", FMP, fmp_facts())
    body = {"grant": "g-1", "reason": "disability", "terminated_on": "2027-08-31"}
    r = flow.refused("terminate_service", "company", "2027-09-01T09:00", body)
    assert r.rule == "FMP §5(d)" and refusal_status(r.code) == 409
    flow.send(
        "terminate_service",
        "company",
        "2027-09-01T09:00",
        {**body, "disability_proof": "physician's certificate in the Board's form"},
    )
    assert flow.deadline("exercise_window_end") == at("2028-02-29T23:59:59.999999")


def test_fmp_the_board_decides_whether_a_leave_is_a_termination() -> None:
    body = {"grant": "g-1", "reason": "leave_determined_termination", "terminated_on": "2027-03-01"}
    flow = FactFlow("termination", FMP, fmp_facts())
    r = flow.refused("terminate_service", "company", "2027-03-02T09:00", body)
    assert r.rule == "FMP §5(a)" and "only the Board" in r.reason
    flow.send("terminate_service", "board", "2027-03-02T09:00", {**body, "resolution": "BR-7"})
    assert flow.state == "window_open"


def test_fmp_has_no_rd_extensions() -> None:
    flow = terminate(
        fmp_facts(), FMP, "2027-01-16T09:00", reason="resignation", terminated_on="2027-01-15"
    )
    r = flow.refused("record_death", "company", "2027-01-20T09:00", {"died_on": "2027-01-19"})
    assert r.code == "not_provided" and r.rule == "FMP §5"


def test_a_window_is_capped_by_the_option_expiration_date() -> None:
    facts = fmp_facts(expiration_date="2027-02-01")
    flow = terminate(
        facts, FMP, "2027-01-16T09:00", reason="without_cause", terminated_on="2027-01-15"
    )
    window = event(flow.last, "post_termination_window_opened")["deadline"]
    assert window["at"].startswith("2027-02-01T23:59:59")
    assert "never after the Option Expiration Date 2027-02-01" in window["derivation"]


# -- RD ISO ¶7 -------------------------------------------------------------------------------


def test_rd_three_months_from_january_31_ends_april_30() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="without_cause", terminated_on="2027-01-31"
    )
    e = event(flow.last, "service_terminated")
    assert (e["vested"], e["exercisable"]) == (1300, 1300)  # (1 + 12 full months)/48 × 4,800
    assert e["vesting"] == (
        "RD ISO ¶1(g): on 2027-01-31: 1/48 on the Initial Vesting Date 2026-01-31 + 12 full "
        "months → Vested Ratio 13/48 × 4800 = 1300"
    )
    window = event(flow.last, "post_termination_window_opened")["deadline"]
    assert window["derivation"] == (
        "RD ISO ¶7(a): employment terminated 2027-01-31 + 3 months → 2027-04-30 23:59 PDT"
    )


def test_rd_death_within_three_months_becomes_a_death_termination() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="resignation", terminated_on="2027-01-31"
    )
    r = flow.refused("record_death", "company", "2027-06-01T09:00", {"died_on": "2027-05-01"})
    assert r.rule == "RD ISO ¶7(a)" and "not within 3 months" in r.reason
    flow.send("record_death", "owner", "2027-05-02T09:00", {"died_on": "2027-04-30"})
    assert flow.data["reason"] == "death" and flow.state == "window_open"
    assert flow.deadline("exercise_window_end") == at("2028-01-31T23:59:59.999999")


def test_a_death_reported_after_the_window_closed_reopens_it() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="without_cause", terminated_on="2027-01-31"
    )
    flow.fire("exercise_window_end")
    assert flow.state == "window_closed"
    flow.send("record_death", "owner", "2027-06-10T09:00", {"died_on": "2027-04-20"})
    assert flow.state == "window_open"
    assert flow.deadline("exercise_window_end") == at("2028-01-31T23:59:59.999999")


def test_rd_7c_exercise_prevented_by_law() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="without_cause", terminated_on="2027-01-31"
    )
    flow.send(
        "record_exercise_prevented",
        "company",
        "2027-03-01T09:00",
        {"prevented_since": "2027-02-15", "reason": "no exemption available"},
    )
    assert flow.deadline("exercise_window_end") == at("2035-12-31T23:59:59.999999")
    flow.send("notify_exercisable", "company", "2027-06-10T09:00", {"notified_on": "2027-06-10"})
    assert flow.deadline("exercise_window_end") == at("2027-09-10T23:59:59.999999")
    d = event(flow.last, "optionee_notified_option_exercisable")["deadline"]
    assert (
        "the Company notified that the option is exercisable 2027-06-10 + 3 months"
        in (d["derivation"])
    )


def test_rd_7d_section_16b_exposure() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="without_cause", terminated_on="2027-01-31"
    )
    flow.send("record_section_16b_exposure", "company", "2027-02-10T09:00", {})
    assert flow.deadline("exercise_window_end") == at("2027-08-09T23:59:59.999999")  # day 190
    flow.send(
        "record_section_16b_exposure",
        "company",
        "2027-05-01T09:00",
        {"exposure_ends_on": "2027-06-20"},
    )
    assert flow.deadline("exercise_window_end") == at("2027-06-30T23:59:59.999999")


def test_rd_leave_over_90_days_ends_employment_on_day_91() -> None:
    flow = terminate(
        rd_2027(),
        RD_ISO,
        "2027-05-01T09:00",
        reason="leave_over_limit",
        leave_started_on="2027-01-01",
    )
    assert flow.data["terminated_on"] == "2027-04-01"
    assert flow.deadline("exercise_window_end") == at("2027-07-01T23:59:59.999999")


def test_rd_nso_ended_before_its_initial_exercise_date_forfeits_everything() -> None:
    flow = terminate(
        rd_2027(RD_NSO, service="consultant"),
        RD_NSO,
        "2026-10-01T09:00",
        reason="end_of_service_status",
        terminated_on="2026-09-30",
    )
    assert flow.state == "window_closed"
    assert event(flow.last, "unvested_shares_forfeited")["shares"] == 4800
    assert event(flow.last, "service_terminated")["clause"] == "RD NSO ¶7(f); RD Plan ¶7(A)(iii)"


def test_rd_iso_knows_no_end_of_director_status() -> None:
    flow = FactFlow("termination", RD_ISO, rd_2027())
    body = {"grant": "g-1", "reason": "end_of_service_status", "terminated_on": "2027-01-31"}
    r = flow.refused("terminate_service", "company", "2027-02-01T09:00", body)
    assert r.rule == "RD ISO ¶7" and "no termination for end of service status" in r.reason


# -- the contract ----------------------------------------------------------------------------


def test_a_termination_needs_the_grant_facts_and_the_right_grant() -> None:
    body = {"grant": "g-1", "reason": "without_cause", "terminated_on": "2027-01-31"}
    r = FactFlow("termination", RD_ISO).refused(
        "terminate_service", "company", "2027-02-01T09:00", body
    )
    assert r.code == "facts_unavailable"
    other = {**body, "grant": "g-2"}
    r = FactFlow("termination", RD_ISO, rd_2027()).refused(
        "terminate_service", "company", "2027-02-01T09:00", other
    )
    assert "facts loaded are of grant g-1, not g-2" in r.reason


def test_a_future_termination_is_refused() -> None:
    body = {"grant": "g-1", "reason": "without_cause", "terminated_on": "2027-03-01"}
    r = FactFlow("termination", RD_ISO, rd_2027()).refused(
        "terminate_service", "company", "2027-02-01T09:00", body
    )
    assert "is in the future" in r.reason


def test_an_extension_before_any_termination_is_refused_for_its_state() -> None:
    r = FactFlow("termination", RD_ISO, rd_2027()).refused(
        "record_death", "company", "2027-02-01T09:00", {"died_on": "2027-01-31"}
    )
    assert (r.code, refusal_status(r.code)) == ("wrong_state", 409)
    assert "terminate_service first" in r.reason


def test_the_register_facts_say_when_the_option_is_open() -> None:
    facts = rd_2027()
    assert open_at(facts, at("2035-12-31T23:00"))
    assert not open_at(facts, at("2036-01-01T00:00"))
    ended = facts.model_copy(update={"window_ends_at": at("2027-04-30T23:59:59.999999")})
    assert open_at(ended, at("2027-04-30T23:00"))
    assert not open_at(ended, at("2027-04-30T23:59:59.999999") + timedelta(microseconds=1))


def test_shares_exercised_in_the_window_do_not_expire_with_it() -> None:
    facts = fmp_facts()
    flow = terminate(facts, FMP, "2027-01-16T09:00", reason="without_cause",
                     terminated_on="2027-01-15")  # fmt: skip
    flow.facts = facts.model_copy(update={"exercised": 200})  # an exercise in the window
    closed = flow.fire("exercise_window_end")
    assert event(closed, "post_termination_window_closed")["unexercised_expired"] == 50


@pytest.mark.parametrize(
    ("terms_id", "reason", "extra", "ends", "clause"),
    [
        (FMP, "resignation", {}, "2027-08-30", "FMP §5(a)"),
        (FMP, "end_of_service_status", {}, "2027-08-30", "FMP §5(a)"),
        (FMP, "employer_left_group", {}, "2027-08-30", "FMP §5(a)"),
        (FMP, "death", {}, "2028-01-31", "FMP §5(b)"),
        (RD_ISO, "for_cause", {}, "2027-10-31", "RD ISO ¶7(a)"),
        (RD_ISO, "employer_left_group", {}, "2027-10-31", "RD ISO ¶7(a)"),
        (RD_ISO, "disability", {}, "2028-07-31", "RD ISO ¶7(a)"),
        (RD_NSO, "death", {}, "2028-07-31", "RD NSO ¶7(a)"),
    ],
)
def test_each_reason_gets_its_window(
    terms_id: str, reason: str, extra: dict[str, Any], ends: str, clause: str
) -> None:
    facts = fmp_facts() if terms_id == FMP else rd_2027(terms_id)
    flow = terminate(facts, terms_id, "2027-08-01T09:00", reason=reason,
                     terminated_on="2027-07-31", **extra)  # fmt: skip
    window = event(flow.last, "post_termination_window_opened")["deadline"]
    assert window["clause"] == clause
    assert flow.deadline("exercise_window_end") == at(f"{ends}T23:59:59.999999")


def test_shares_held_for_an_exercise_under_way_are_neither_forfeited_nor_retained() -> None:
    """250 vested by 2027-01-15 (FMP §3(a)), 100 of them claimed by an exercise under way: 150
    stay exercisable in the window, the 750 unvested are forfeited, the 100 are the exercise's."""
    held = Claim(exercise="ex-1", shares=100, on=date(2027, 1, 10))
    facts = fmp_facts().model_copy(update={"claims": [held]})
    flow = terminate(facts, FMP, "2027-01-16T09:00", reason="without_cause",
                     terminated_on="2027-01-15")  # fmt: skip
    assert (flow.data["retained"], flow.data["forfeited"]) == (150, 750)
    # The exercise completes in the window: nothing more expires with it than the 150 left.
    done = held.model_copy(update={"exercised": True})
    flow.facts = facts.model_copy(update={"claims": [done], "exercised": 100})
    closed = flow.fire("exercise_window_end")
    assert event(closed, "post_termination_window_closed")["unexercised_expired"] == 150


def test_the_termination_tells_every_open_exercise_of_the_grant_when_it_took_effect() -> None:
    flow = terminate(fmp_facts(), FMP, "2027-01-16T09:00", reason="without_cause",
                     terminated_on="2027-01-15")  # fmt: skip
    [to_exercises] = [s for s in flow.last.send if isinstance(s, SendToEach)]  # type: ignore[union-attr]
    assert (to_exercises.workflow_type, to_exercises.field, to_exercises.value) == (
        "option_exercise", "grant", "g-1",
    )  # fmt: skip
    assert to_exercises.command == "record_termination"
    p = to_exercises.payload
    assert p["effective_at"] == "2027-01-15T23:59:59.999999-08:00"  # the end of the last day
    assert (p["retained"], p["clause"]) == (250, "FMP §5(a)")
    assert p["window_derivation"].startswith("FMP §5(a): terminated 2027-01-15 + 30 days")
