"""The Ray Dream exercise, walked with dates from the clauses: RD ISO ¶4–¶7, ¶12, ¶14–¶16,
RD NSO ¶14–¶15, RD Plan ¶6(C), ¶12."""

from __future__ import annotations

from typing import Any

import pytest
from exercise_flow import RD_ISO, RD_NSO, RD_REPRESENTATIONS, cash, flow, notice, rd_facts, split
from kind_flow import CATALOG, KindFlow, at, delivered, event, iso, types

from workflows.exercise import decide
from workflows.kernel import Actor, Command, Party, Refused

CFO = delivered("1994-05-02T10:00", "certified_mail")


def rd_notice(payment: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    grant = more.pop("grant", rd_facts())
    return notice(
        500, payment, more.pop("given", CFO), grant, representations=RD_REPRESENTATIONS, **more
    )


ISP = {"form": "immediate_sales_proceeds", "amount": "100.00", "program": "broker same-day sale"}
ISSUE = {"certificate_number": "RD-0042", "issued_at": iso("1994-05-09T09:00")}


def test_an_iso_exercise_by_sale_proceeds_into_escrow_with_its_legends_and_watch() -> None:
    f = flow(RD_ISO)
    d = f.send("deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([ISP]))
    assert f.state == "payment_review" and "payment_review_opened" in types(d)
    assert event(d, "exercise_notice_received")["notice"]["to_party"].startswith(
        "the Chief Financial"
    )
    f.send(
        "accept_payment",
        "company",
        "1994-05-03T09:00",
        {"decided_at": iso("1994-05-03T09:00")},
        actor="CFO",
    )
    f.send(
        "require_escrow",
        "company",
        "1994-05-03T10:00",
        {"escrow_agent": "Bank of the West", "required_at": iso("1994-05-03T10:00")},
    )
    r = f.refused("issue_certificate", "company", "1994-05-09T09:00", ISSUE)
    assert r.rule == "RD ISO ¶12(a), ¶4(b)(ii)" and "escrow agreement" in r.reason
    f.send(
        "deliver_escrow_agreement",
        "owner",
        "1994-05-04T10:00",
        {"delivered_at": iso("1994-05-04T10:00")},
    )
    d = f.send("issue_certificate", "company", "1994-05-09T09:00", ISSUE)
    assert f.state == "completed"
    cert = event(d, "certificate_issued")["certificate"]
    assert cert["delivered_to"] == "escrow_agent" and cert["escrow_agent"] == "Bank of the West"
    assert cert["registered_in"] == "Sam Lee" and cert["name_clause"] == "RD ISO ¶4(e)"
    assert [x["clause"] for x in cert["legends"]] == [
        "RD ISO ¶15 (Rule 260.141.11(c)), ¶16(b)",
        "RD ISO ¶16(a)",
        "RD ISO ¶16(c)",
        "RD ISO ¶16(d), ¶14",
    ]
    assert "MADE ON OR BEFORE 1995-05-02." in cert["legends"][3]["text"]
    watch = event(d, "disposition_watch_started")["watch"]
    assert (watch["after_exercise"], watch["after_grant"], watch["ends_on"]) == (
        "1995-05-02",
        "1994-10-30",
        "1995-05-02",
    )
    assert watch["clause"] == "RD ISO ¶14" and watch["notify"] == "Chief Financial Officer"
    assert f.data["disposition_watch"] == watch


def test_the_watch_runs_to_two_years_from_grant_when_that_is_later() -> None:
    f = flow(RD_ISO)
    grant = rd_facts(grant_date="1994-01-03", as_of="1994-05-02")
    f.send(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], grant=grant),
    )
    d = f.send("issue_certificate", "company", "1994-05-09T09:00", ISSUE)
    assert event(d, "disposition_watch_started")["watch"]["ends_on"] == "1996-01-03"


def test_the_company_may_decline_a_sale_proceeds_program_and_cash_replace_it() -> None:
    f = flow(RD_ISO)
    f.send("deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([ISP]))
    d = f.send(
        "refuse_payment",
        "company",
        "1994-05-03T09:00",
        {"decided_at": iso("1994-05-03T09:00"), "reason": "no program approved"},
    )
    assert event(d, "payment_refused")["clauses"] == ["RD ISO ¶4(c)(iii); RD Plan ¶6(C)(iii)"]
    f.send(
        "tender_payment",
        "owner",
        "1994-05-04T09:00",
        {"payment": [cash("100", "cash_equivalent")], "paid_at": iso("1994-05-04T09:00")},
    )
    assert f.state == "pending_delivery"


def test_the_notice_goes_in_person_or_by_certified_or_registered_mail_with_representations() -> (
    None
):
    f = flow(RD_ISO)
    r = f.refused(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], given=delivered("1994-05-02T10:00", "courier")),
    )
    assert r.rule == "RD ISO ¶4(b)" and "certified_mail" in r.reason
    bare = rd_notice([cash("100")]) | {"representations": ["investment_intent"]}
    r = f.refused("deliver_exercise_notice", "owner", "1994-05-02T11:00", bare)
    assert r.rule == "RD ISO ¶4(b); RD ISO Exercise Form" and "over_eighteen" in r.reason


@pytest.mark.parametrize(
    ("part", "clause"),
    [
        (cash("100", "salary_debt_cancellation"), "RD ISO ¶4(c) (not among its forms of payment)"),
        (
            {
                "form": "promissory_note",
                "note": {
                    "principal": "100",
                    "due_on": "1996-05-02",
                    "interest_rate": "7",
                    "minimum_rate": "6",
                    "interest_every_months": 12,
                },
            },
            "RD ISO ¶4(c); RD Plan ¶6(C)",
        ),
    ],
)
def test_each_payment_form_the_agreement_does_not_allow_is_refused_with_its_clause(
    part: dict[str, Any], clause: str
) -> None:
    r = flow(RD_ISO).refused(
        "deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([part])
    )
    assert r.rule == clause and r.code == "form_not_allowed"


def _shares(held_since: str, **more: Any) -> dict[str, Any]:
    return {"form": "shares", "shares": {"count": 100, "held_since": held_since, **more}}


def test_shares_tendered_must_be_owned_more_than_six_months_or_not_from_the_company() -> None:
    f = flow(RD_ISO)
    r = f.refused(
        "deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([_shares("1993-11-02")])
    )
    assert r.rule == "RD ISO ¶4(c)(ii); RD Plan ¶6(C)(i)-(ii)" and "more than 6 months" in r.reason
    r = f.refused(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([_shares("1990-01-01", redemption_restricted=True)]),
    )
    assert "redemption" in r.reason
    f.send(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([_shares("1994-04-01", acquired_from_company=False)]),
    )
    assert f.state == "pending_delivery"  # no consent needed in RD: valued by the Board's FMV
    assert f.data["payment"]["parts"][0]["holding"] == "not acquired from the Company"


def _note_terms() -> Any:
    """A grant whose agreement allows a note within the Plan's limits (RD Plan ¶6(C), ¶8)."""
    raw = CATALOG.get(RD_ISO).model_dump(mode="json")
    raw["option_exercise"]["payment"]["forms"]["promissory_note"]["allowed"] = True
    return raw


def _note(**changes: Any) -> dict[str, Any]:
    base = {
        "principal": "100",
        "due_on": "1999-05-02",
        "interest_rate": "7",
        "minimum_rate": "6.5",
        "interest_every_months": 12,
    }
    return {"form": "promissory_note", "note": base | changes}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"due_on": "1999-05-03"},
            "no more than 5 years after the exercise: due 1999-05-03, latest 1999-05-02",
        ),
        ({"interest_every_months": 24}, "at least every 12 months"),
        ({"interest_rate": "6"}, "below 6.5%"),
        ({"recourse": False}, "recourse"),
    ],
)
def test_a_promissory_note_where_allowed_keeps_within_the_plans_limits(
    changes: dict[str, Any], words: str
) -> None:
    body, grant = split(rd_notice([_note(**changes)]))
    message = Command("deliver_exercise_notice", Actor(Party.OWNER), body or {})
    with pytest.raises(Refused) as caught:
        decide(None, {}, message, at("1994-05-02T11:00"), _note_terms(), facts=grant)
    assert caught.value.rule == "RD ISO ¶4(c); RD Plan ¶6(C)" and words in caught.value.reason
    body, grant = split(rd_notice([_note()]))
    ok = Command("deliver_exercise_notice", Actor(Party.OWNER), body or {})
    decided = decide(None, {}, ok, at("1994-05-02T11:00"), _note_terms(), facts=grant)
    assert decided.state == "pending_delivery"


def test_during_life_only_the_optionee_may_exercise_after_death_the_legal_representative() -> None:
    guardian = {"name": "Pat Guardian", "capacity": "guardian"}
    r = flow(RD_ISO).refused(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], exercised_by=guardian),
    )
    assert r.rule == "RD ISO ¶5; RD Plan ¶12"
    f = flow(RD_ISO)
    rep = {"name": "Dana Lee", "capacity": "legal_representative"}
    f.send(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], exercised_by=rep, grant=rd_facts(optionee_living=False)),
    )
    d = f.send("issue_certificate", "company", "1994-05-09T09:00", ISSUE)
    assert event(d, "certificate_issued")["certificate"]["registered_in"] == "Dana Lee"


def test_the_securities_gate_needs_a_registration_or_counsels_opinion() -> None:
    grant = rd_facts(
        securities_law={"basis": "compliance_confirmed_by_company_and_counsel", "reference": "x"}
    )
    r = flow(RD_ISO).refused(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], grant=grant),
    )
    assert r.rule == "RD ISO ¶4(f)" and r.code == "securities_law"


def test_the_option_term_date_is_the_last_day_to_exercise() -> None:
    fmv = {
        "price_per_share": "1",
        "effective_on": "2002-01-01",
        "method": "board_good_faith",
        "resolution": "R",
    }
    last = rd_facts(as_of="2002-10-29", fair_market_value=fmv)
    f = flow(RD_ISO)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2002-10-29T20:00",
        rd_notice([cash("100")], grant=last, given=delivered("2002-10-29T16:00")),
    )
    late = rd_facts(as_of="2002-10-30", fair_market_value=fmv)
    r = flow(RD_ISO).refused(
        "deliver_exercise_notice",
        "owner",
        "2002-10-30T12:00",
        rd_notice([cash("100")], grant=late, given=delivered("2002-10-30T09:00")),
    )
    assert r.rule == "RD ISO ¶6(a), ¶1(h)" and "2002-10-29" in r.reason


def test_the_rd_notice_may_be_withdrawn_before_issue_and_has_no_election() -> None:
    f = flow(RD_ISO)
    f.send("deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([cash("100")]))
    f.send(
        "require_withholding",
        "company",
        "1994-05-02T12:00",
        {"amount": "40", "tax_date": "1994-05-02"},
    )
    election = {
        "method": "withhold_shares",
        "portion": "all",
        "rate_basis": "flat",
        "notice": delivered("1994-05-02T13:00"),
    }
    assert (
        f.refused("elect_withholding", "owner", "1994-05-02T13:00", election).code == "not_provided"
    )
    assert (
        f.refused("issue_certificate", "company", "1994-05-09T09:00", ISSUE).rule == "RD ISO ¶4(d)"
    )
    d = f.send(
        "withdraw_exercise", "owner", "1994-05-03T09:00", {"withdrawn_at": iso("1994-05-03T09:00")}
    )
    assert f.state == "withdrawn" and event(d, "exercise_withdrawn")["clause"] == "RD ISO ¶4(b)"


def test_the_nso_cites_its_own_paragraphs_and_carries_no_iso_legend() -> None:
    f: KindFlow = flow(RD_NSO)
    grant = rd_facts(option_type="nso")
    f.send(
        "deliver_exercise_notice",
        "owner",
        "1994-05-02T11:00",
        rd_notice([cash("100")], grant=grant),
    )
    r = f.refused(
        "issue_certificate",
        "company",
        "1994-05-09T09:00",
        ISSUE | {"omit_legends": ["california_commissioner"]},
    )
    assert r.rule == "RD NSO ¶14 (Rule 260.141.11(c)), ¶15(b)"
    d = f.send(
        "issue_certificate",
        "company",
        "1994-05-09T09:00",
        ISSUE | {"omit_legends": ["securities_act"]},
    )
    cert = event(d, "certificate_issued")["certificate"]
    assert [x["key"] for x in cert["legends"]] == ["california_commissioner", "first_refusal"]
    assert event(d, "disposition_watch_started")["watch"]["clause"] == "RD NSO Exercise Form"
