"""Withholding as a condition of delivery (FMP §13(a)) and the Election (FMP §13(b)–(c)): Board
approval, irrevocable unless disapproved, deemed approved when the Tax Date passes."""

from __future__ import annotations

from exercise_flow import FMP, cash, facts, flow, notice
from kind_flow import KindFlow, at, delivered, event, iso, types

TAX_DATE = "2000-03-15"


def required(amount: str = "300.00") -> KindFlow:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(
            1_000, [cash("500")], delivered("2000-03-01T10:00"), facts(), investment_statement=True
        ),
    )
    d = f.send(
        "require_withholding",
        "company",
        "2000-03-01T12:00",
        {"amount": amount, "tax_date": TAX_DATE, "fair_market_value": "2.00"},
    )
    assert event(d, "withholding_required")["clause"] == "FMP §13(a)"
    return f


def elect(
    f: KindFlow, portion: str = "all", percentage: str | None = None, when: str = "2000-03-02T10:00"
) -> None:
    payload = {
        "method": "withhold_shares",
        "portion": portion,
        "rate_basis": "flat",
        "notice": delivered(when),
    }
    if percentage:
        payload["percentage"] = percentage
    d = f.send("elect_withholding", "owner", when, payload)
    assert f.state == "election_pending" and types(d) == ["withholding_election_made"]


ISSUE = {"certificate_number": "C-200", "issued_at": iso("2000-03-16T09:00")}


def test_delivery_waits_for_the_withholding_the_company_requires() -> None:
    f = required()
    r = f.refused("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert r.rule == "FMP §13(a)" and "300.00 is still owed" in r.reason
    f.send(
        "remit_withholding",
        "owner",
        "2000-03-10T09:00",
        {"amount": "300", "paid_at": iso("2000-03-10T09:00")},
    )
    f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert f.state == "completed"


def test_the_election_is_deemed_approved_when_the_tax_date_passes_without_the_board() -> None:
    f = required()
    elect(f)
    assert f.deadline("tax_date") == at("2000-03-15T23:59:59.999999")
    timer = f.timers["tax_date"]
    assert (
        timer.party == "board"
        and "FMP §13(c)(iii): Tax Date 2000-03-15" in timer.deadline.derivation
    )
    d = f.fire("tax_date")
    assert f.state == "pending_delivery"
    deemed = event(d, "withholding_election_deemed_approved")
    assert (
        deemed["clause"] == "FMP §13(c)(iii)" and deemed["election"]["status"] == "deemed_approved"
    )
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    shares = event(d, "certificate_issued")["certificate"]["shares"]
    assert shares == {"purchased": 1000, "withheld": "150", "issued": 850}  # $300 / $2.00


def test_a_fraction_left_by_withheld_shares_is_paid_in_cash_at_fmv() -> None:
    f = required("301.00")
    elect(f)
    f.send("approve_election", "board", "2000-03-10T09:00", {"decided_at": iso("2000-03-10T09:00")})
    assert "tax_date" not in f.timers
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    shares = event(d, "certificate_issued")["certificate"]["shares"]
    assert shares["withheld"] == "150.5" and shares["issued"] == 849
    assert shares["fraction"] == {
        "shares": "0.5",
        "clause": "FMP §4(b)",
        "cash": "1.00",
        "price_per_share": "2.00",
        "cash_clause": "FMP §4(b)",
    }


def test_a_stated_percentage_leaves_the_rest_to_remit() -> None:
    f = required()
    elect(f, "percentage", "50")
    f.send("approve_election", "board", "2000-03-10T09:00", {"decided_at": iso("2000-03-10T09:00")})
    r = f.refused("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert "150.00 is still owed" in r.reason
    f.send(
        "remit_withholding",
        "owner",
        "2000-03-11T09:00",
        {"amount": "150", "paid_at": iso("2000-03-11T09:00")},
    )
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert event(d, "certificate_issued")["certificate"]["shares"]["issued"] == 925


def test_the_election_is_irrevocable_unless_the_board_disapproves_it() -> None:
    f = required()
    elect(f)
    f.send("approve_election", "board", "2000-03-10T09:00", {"decided_at": iso("2000-03-10T09:00")})
    again = {
        "method": "tender_shares",
        "portion": "all",
        "rate_basis": "w4",
        "notice": delivered("2000-03-11T10:00"),
    }
    r = f.refused("elect_withholding", "owner", "2000-03-11T10:00", again)
    assert r.rule == "FMP §13(c)(ii)" and "irrevocable" in r.reason


def test_a_disapproved_election_leaves_the_tax_to_remit_or_a_new_election() -> None:
    f = required()
    elect(f)
    r = f.refused(
        "disapprove_election",
        "company",
        "2000-03-10T09:00",
        {"decided_at": iso("2000-03-10T09:00")},
    )
    assert r.code == "not_authorised" and r.rule == "FMP §13(c)(iii)"
    d = f.send(
        "disapprove_election", "board", "2000-03-10T09:00", {"decided_at": iso("2000-03-10T09:00")}
    )
    assert f.state == "pending_delivery" and "tax_date" not in f.timers
    assert event(d, "withholding_election_disapproved")["clause"] == "FMP §13(c)(ii)"
    assert f.refused("issue_certificate", "company", "2000-03-16T09:00", ISSUE).rule == "FMP §13(a)"
    # A new Election after the disapproval (acts are judged by when they took effect, so the new
    # one must be made after the disapproval, not dated before it).
    elect(f, when="2000-03-11T10:00")
    assert f.deadline("tax_date") == at("2000-03-15T23:59:59.999999")


def test_a_disapproval_made_after_the_tax_date_comes_too_late() -> None:
    f = required()
    elect(f)
    late = {"decided_at": iso("2000-03-16T08:00")}
    r = f.refused("disapprove_election", "board", "2000-03-16T09:00", late)
    assert r.rule == "FMP §13(c)(iii)" and r.code == "late" and "deemed approved" in r.reason


def test_an_election_names_all_or_a_percentage_and_a_rate_basis() -> None:
    f = required()
    bad = {
        "method": "withhold_shares",
        "portion": "percentage",
        "rate_basis": "flat",
        "notice": delivered("2000-03-02T10:00"),
    }
    r = f.refused("elect_withholding", "owner", "2000-03-02T10:00", bad)
    assert r.rule == "FMP §13(c)(i)"
    r = f.refused("elect_withholding", "owner", "2000-03-02T10:00", bad | {"rate_basis": "monthly"})
    assert r.code == "invalid_payload" and "payload.rate_basis" in r.reason


def test_no_election_before_the_company_requires_withholding() -> None:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(1_000, [cash("500")], delivered("2000-03-01T10:00"), facts()),
    )
    payload = {
        "method": "withhold_shares",
        "portion": "all",
        "rate_basis": "flat",
        "notice": delivered("2000-03-02T10:00"),
    }
    r = f.refused("elect_withholding", "owner", "2000-03-02T10:00", payload)
    assert r.rule == "FMP §13(a)" and r.code == "wrong_state"


def test_the_company_may_let_the_tax_be_remitted_at_a_later_date_it_sets() -> None:
    f = flow(FMP)
    f.send(
        "deliver_exercise_notice",
        "owner",
        "2000-03-01T11:00",
        notice(
            1_000, [cash("500")], delivered("2000-03-01T10:00"), facts(), investment_statement=True
        ),
    )
    later = {"amount": "300", "tax_date": TAX_DATE, "remit_by": "2000-04-15"}
    f.send("require_withholding", "company", "2000-03-01T12:00", later)
    d = f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    cert = event(d, "certificate_issued")["certificate"]
    owed = cert["withholding_owed"]
    assert (owed["amount"], owed["by"]) == ("300.00", "2000-04-15")
    assert owed["clause"].startswith("FMP §13(a) (at the time of delivery or at such later date")
    assert (cert["shareholder_from"], cert["shareholder_clause"]) == (ISSUE["issued_at"], "FMP §11")
