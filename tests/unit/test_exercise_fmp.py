"""The FMP exercise, walked with dates from the clauses: FMP §3–§5, §9, §13, §16, Exhibit A."""

from __future__ import annotations

import pytest
from exercise_flow import FMP, cash, facts, flow, notice
from kind_flow import delivered, event, iso, mailed, types

from workflows.kernel import refusal_status

NOTICE = delivered("2000-03-01T10:00")


def accepted(**grant_changes: object) -> object:
    """An FMP exercise of 1,000 shares paid in cash, with the §9 statement, accepted."""
    f = flow(FMP)
    d = f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500.00")], NOTICE, facts(**grant_changes), investment_statement=True),
    )
    assert types(d) == ["exercise_notice_received", "exercise_accepted"]
    assert f.state == "pending_delivery"
    return f


def test_a_cash_exercise_from_notice_to_certificate_with_the_6f_legend() -> None:
    f = accepted()
    d = f.send(
        "issue_certificate",
        "company",
        "2000-03-03T09:00",
        {"certificate_number": "C-101", "issued_at": iso("2000-03-03T09:00")},
    )
    assert f.state == "completed" and d.final
    cert = event(d, "certificate_issued")["certificate"]
    assert cert["number"] == "C-101" and cert["registered_in"] == "Alex Rivera"
    assert cert["shares"] == {"purchased": 1000, "withheld": "0", "issued": 1000}
    assert [(x["key"], x["clause"]) for x in cert["legends"]] == [
        ("first_refusal_and_repurchase", "FMP §6(f)")
    ]
    assert cert["legends"][0]["text"].startswith("THE SHARES REPRESENTED BY THIS CERTIFICATE")
    assert "disposition_watch_started" not in types(d)  # FMP §14: not an ISO


def test_certified_mail_takes_effect_72_hours_after_deposit_and_is_judged_on_that_day() -> None:
    f = flow(FMP)
    given = mailed("2000-02-27T09:00")
    later = {**facts()["fair_market_value"], "effective_on": "2000-03-02"}
    r = f.refused(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500")], given, facts(fair_market_value=later)),
    )
    assert "after the notice took effect (2000-03-01)" in r.reason
    assert refusal_status(r.code) == 422
    d = f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500")], given, facts(), investment_statement=True),
    )
    effective = event(d, "exercise_notice_received")["notice"]
    assert effective["effective_at"] == iso("2000-03-01T09:00")
    assert effective["clause"] == "FMP §16(b)(1)"


@pytest.mark.parametrize(
    ("part", "clause"),
    [
        (cash("500", "cash_equivalent"), "FMP §4(a)(ii) (cash, check, accrued salary debt"),
        (
            {"form": "immediate_sales_proceeds", "amount": "500", "program": "broker"},
            "FMP §4(a)(ii) (no sale-proceeds exercise among its forms)",
        ),
        (
            {
                "form": "promissory_note",
                "note": {
                    "principal": "500",
                    "due_on": "2003-03-01",
                    "interest_rate": "6",
                    "minimum_rate": "5",
                    "interest_every_months": 12,
                },
            },
            "FMP §4(a)(ii) (no promissory note among its forms)",
        ),
    ],
)
def test_each_payment_form_fmp_does_not_allow_is_refused_with_its_clause(
    part: dict[str, object], clause: str
) -> None:
    r = flow(FMP).refused(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [part], NOTICE, facts()),
    )
    assert r.rule.startswith(clause) and r.code == "form_not_allowed"
    assert "they allow: cash, check, cancelling the Company's debt" in r.reason


def test_check_and_accrued_salary_debt_mix_and_must_pay_the_price_in_full() -> None:
    f = flow(FMP)
    short = [cash("200", "check"), cash("250", "salary_debt_cancellation")]
    r = f.refused(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, short, NOTICE, facts()),
    )
    assert r.rule == "FMP §4(a)(ii), Exhibit A" and "500.00; tendered 450.00" in r.reason
    full = [cash("200", "check"), cash("300", "salary_debt_cancellation")]
    f.send(
        "deliver_exercise_notice", "owner", "2000-03-01T11:00", notice(1_000, full, NOTICE, facts())
    )
    assert f.state == "pending_delivery"


def _shares(count: int, held_since: str, **more: object) -> dict[str, object]:
    return {"form": "shares", "shares": {"count": count, "held_since": held_since, **more}}


def test_shares_tendered_need_six_calendar_months_and_the_boards_consent() -> None:
    f = flow(FMP)
    young = _shares(250, "1999-09-02")  # six months after is 2000-03-02: one day short
    r = f.refused(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [young], NOTICE, facts()),
    )
    assert r.rule == "FMP §4(a)(ii)" and "at least 6 months" in r.reason
    assert "held since 1999-09-02, surrendered 2000-03-01" in r.reason
    d = f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [_shares(250, "1999-09-01")], NOTICE, facts()),  # 250 × $2.00 FMV
    )
    assert f.state == "payment_review"
    assert event(d, "payment_review_opened")["forms"] == [
        {"form": "shares", "clause": "FMP §4(a)(ii)"}
    ]
    part = f.data["payment"]["parts"][0]
    assert (
        part["value"] == "500.00"
        and part["determination"]["resolution"] == "Board resolution 2000-01"
    )
    r = f.refused(
        "accept_payment", "company", "2000-03-02T10:00", {"decided_at": iso("2000-03-02T10:00")}
    )
    assert r.code == "not_authorised" and "only: board" in r.reason
    f.send("accept_payment", "board", "2000-03-02T10:00", {"decided_at": iso("2000-03-02T10:00")})
    assert f.state == "pending_delivery"


def test_no_holding_period_where_no_section_16b_liability_is_to_be_avoided() -> None:
    f = flow(FMP)
    fresh = _shares(250, "2000-02-01", section_16_applies=False)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [fresh], NOTICE, facts()),
    )
    assert "no §16(b) liability" in f.data["payment"]["parts"][0]["holding"]


def test_a_refused_share_tender_may_be_replaced_or_the_irrevocable_notice_withdrawn() -> None:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [_shares(250, "1999-01-01")], NOTICE, facts(), investment_statement=True),
    )
    r = f.refused(
        "withdraw_exercise", "owner", "2000-03-01T12:00", {"withdrawn_at": iso("2000-03-01T12:00")}
    )
    assert r.rule == "FMP Exhibit A" and "irrevocable" in r.reason
    f.send(
        "refuse_payment",
        "board",
        "2000-03-02T10:00",
        {"decided_at": iso("2000-03-02T10:00"), "reason": "no consent to a share tender"},
    )
    assert f.state == "awaiting_payment"
    d = f.send(
        "tender_payment",
        "owner",
        "2000-03-03T10:00",
        {"payment": [cash("500", "check")], "paid_at": iso("2000-03-03T09:00")},
    )
    assert f.state == "pending_delivery" and "exercise_accepted" in types(d)


def test_withdrawal_once_the_payment_was_refused() -> None:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [_shares(250, "1999-01-01")], NOTICE, facts()),
    )
    f.send(
        "refuse_payment",
        "board",
        "2000-03-02T10:00",
        {"decided_at": iso("2000-03-02T10:00"), "reason": "no"},
    )
    d = f.send(
        "withdraw_exercise", "owner", "2000-03-02T11:00", {"withdrawn_at": iso("2000-03-02T11:00")}
    )
    assert (
        f.state == "withdrawn"
        and d.final
        and event(d, "exercise_withdrawn")["clause"] == "FMP Exhibit A"
    )


def test_a_replacement_payment_after_the_window_closed_is_refused() -> None:
    ends = iso("2000-03-02T23:59:59.999999")
    grant = facts(
        window_ends_at=ends, window_derivation="FMP §5(a): terminated 2000-01-31 + 30 days"
    )
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [_shares(250, "1999-01-01")], NOTICE, grant),
    )
    f.send(
        "refuse_payment",
        "board",
        "2000-03-02T10:00",
        {"decided_at": iso("2000-03-02T10:00"), "reason": "no"},
    )
    r = f.refused(
        "tender_payment",
        "owner",
        "2000-03-04T10:00",
        {"payment": [cash("500")], "paid_at": iso("2000-03-03T09:00")},
    )
    assert r.rule == "FMP §5" and "terminated 2000-01-31 + 30 days" in r.reason


@pytest.mark.parametrize(
    ("changes", "notice_at", "clause", "words"),
    [
        (
            {"exercisable": 900, "vested": 900},
            "2000-03-01T10:00",
            "FMP §3(a), §1",
            "only 900 shares",
        ),
        ({"securities_law": None}, "2000-03-01T10:00", "FMP §3(b)", "securities laws"),
        (
            {
                "as_of": "2009-01-15",
                "fair_market_value": {
                    "price_per_share": "2",
                    "effective_on": "2008-01-01",
                    "method": "board_good_faith",
                    "resolution": "R",
                },
            },
            "2009-01-15T08:00",
            "FMP §2",
            "after the option expired",
        ),
        (
            {"as_of": "2000-03-03", "window_ends_at": iso("2000-03-02T23:59:59.999999")},
            "2000-03-03T08:00",
            "FMP §5",
            "post-termination window closed",
        ),
    ],
)
def test_the_notice_is_judged_against_the_grant_on_its_effective_date(
    changes: dict[str, object], notice_at: str, clause: str, words: str
) -> None:
    r = flow(FMP).refused(
        "deliver_exercise_notice",
        "owner",
        notice_at,
        notice(1_000, [cash("500")], delivered(notice_at), facts(**changes)),
    )
    assert r.rule == clause and words in r.reason


def test_exhibit_a_is_signed_as_the_holder_and_exercised_only_by_optionee_or_representative() -> (
    None
):
    f = flow(FMP)
    bad = notice(1_000, [cash("500")], NOTICE, facts(), exercised_by={"name": "A. Rivera"})
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", bad)
    assert r.rule == "FMP Exhibit A" and "'Alex Rivera'" in r.reason
    heir = notice(
        1_000,
        [cash("500")],
        NOTICE,
        facts(),
        exercised_by={"name": "Jo Rivera", "capacity": "heir"},
    )
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", heir)
    assert r.rule == "FMP §16(d)" and r.code == "not_authorised"
    guardian = notice(
        1_000,
        [cash("500")],
        NOTICE,
        facts(),
        exercised_by={"name": "Pat Guardian", "capacity": "guardian"},
    )
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", guardian)
    assert f.state == "pending_delivery"


def test_while_an_s_corporation_an_heir_must_be_eligible_to_hold_its_stock() -> None:
    dead = facts(optionee_living=False, s_corporation=True)
    heir = {"name": "Jo Rivera", "capacity": "heir"}
    r = flow(FMP).refused(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500")], NOTICE, dead, exercised_by=heir),
    )
    assert r.rule == "FMP §16(d)" and "S corporation" in r.reason
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(
            1_000,
            [cash("500")],
            NOTICE,
            dead,
            exercised_by=heir | {"s_corporation_eligible": True},
            investment_statement=True,
        ),
    )
    d = f.send(
        "issue_certificate",
        "company",
        "2000-03-02T09:00",
        {"certificate_number": "C-7", "issued_at": iso("2000-03-02T09:00")},
    )
    assert event(d, "certificate_issued")["certificate"]["registered_in"] == "Jo Rivera"


def test_the_section_9_statement_and_a_requested_letter_are_conditions_of_delivery() -> None:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500")], NOTICE, facts()),
    )
    issue = {"certificate_number": "C-1", "issued_at": iso("2000-03-02T09:00")}
    r = f.refused("issue_certificate", "company", "2000-03-02T09:00", issue)
    assert r.rule == "FMP §9" and "investment letter" in r.reason
    f.send(
        "deliver_investment_letter",
        "owner",
        "2000-03-01T15:00",
        {"delivered_at": iso("2000-03-01T15:00")},
    )
    f.send(
        "request_investment_letter",
        "company",
        "2000-03-01T16:00",
        {"requested_at": iso("2000-03-01T16:00"), "form": "company form 3"},
    )
    r = f.refused("issue_certificate", "company", "2000-03-02T09:00", issue)
    assert r.rule == "FMP §4(a)(iii)"
    f.send(
        "deliver_investment_letter",
        "owner",
        "2000-03-01T17:00",
        {"delivered_at": iso("2000-03-01T17:00")},
    )
    f.send("issue_certificate", "company", "2000-03-02T09:00", issue)
    assert f.state == "completed"


def test_fmp_has_no_escrow_and_the_company_may_not_omit_the_6f_legend() -> None:
    f = accepted()
    r = f.refused(
        "require_escrow",
        "company",
        "2000-03-02T09:00",
        {"escrow_agent": "Bank", "required_at": iso("2000-03-02T09:00")},
    )
    assert r.code == "not_provided"
    issue = {"certificate_number": "C-1", "issued_at": iso("2000-03-02T09:00")}
    r = f.refused(
        "issue_certificate",
        "company",
        "2000-03-02T09:00",
        issue | {"omit_legends": ["first_refusal_and_repurchase"]},
    )
    assert r.rule == "FMP §6(f)"
    d = f.send(
        "issue_certificate",
        "company",
        "2000-03-02T09:00",
        issue | {"additional_legends": ["RULE 144 LEGEND"]},
    )
    assert event(d, "certificate_issued")["certificate"]["legends"][1] == {
        "key": "additional",
        "clause": "FMP §10",
        "text": "RULE 144 LEGEND",
    }


def test_a_check_not_honoured_rejects_the_exercise() -> None:
    f = accepted()
    d = f.send(
        "reject_exercise",
        "company",
        "2000-03-05T09:00",
        {
            "ground": "payment_not_honoured",
            "reason": "check returned unpaid",
            "rejected_at": iso("2000-03-05T09:00"),
        },
    )
    assert f.state == "rejected" and d.final
    assert event(d, "exercise_rejected")["clause"] == "FMP §4(a)(ii), Exhibit A"
    r = f.refused(
        "issue_certificate",
        "company",
        "2000-03-06T09:00",
        {"certificate_number": "C", "issued_at": iso("2000-03-06T09:00")},
    )
    assert r.code == "wrong_state"
