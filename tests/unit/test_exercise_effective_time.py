"""Issue 14 in the exercise: acts are judged by when they took effect, not when entered.

A Board decision or a payment entered after the Tax Date's timer fired, but made before it, gets
the outcome it would have had on time (FMP §13(c)(iii)); what it contradicts (the deemed
approval, a certificate issued on it) is voided and named by a reconciliation item.
"""

from __future__ import annotations

from typing import Any

from kind_flow import KindFlow, iso, types
from test_exercise_withholding import ISSUE, elect, required

from workflows.kit.timeline import TIMELINE


def _without_timeline(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != TIMELINE}


def _items(f: KindFlow) -> list[dict[str, Any]]:
    return list(f.data[TIMELINE]["reconciliation"])


def test_a_disapproval_made_before_the_tax_date_but_entered_after_it_stands() -> None:
    on_time = required()
    elect(on_time)
    decided = {"decided_at": iso("2000-03-14T16:00")}
    on_time.send("disapprove_election", "board", "2000-03-14T16:00", decided)
    on_time.refused("issue_certificate", "company", "2000-03-16T09:00", ISSUE)

    late = required()
    elect(late)
    late.fire("tax_date")  # deemed approved: the Board's decision is not entered yet
    late.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert late.state == "completed"
    d = late.send("disapprove_election", "board", "2000-03-20T09:00", decided)

    assert late.state == on_time.state == "pending_delivery"
    assert _without_timeline(late.data) == _without_timeline(on_time.data)
    assert late.data["elections_disapproved"][0]["decided_at"] == iso("2000-03-14T16:00")
    items = {i["kind"]: i for i in _items(late)}
    assert set(items) == {"void", "withdrawn"}
    assert items["void"]["fact"]["command"] == "issue_certificate"
    assert items["void"]["clause"] == "FMP §13(a)"  # the withholding is owed again
    assert items["withdrawn"]["fact"]["timer"] == "tax_date"
    assert items["withdrawn"]["clause"] == "FMP §13(c)(iii)"
    assert "withholding_election_disapproved" in types(d)
    assert types(d).count("reconciliation_raised") == 2
    void = next(a for a in late.data[TIMELINE]["acts"] if a.get("command") == "issue_certificate")
    assert void["void"]["clause"] == "FMP §13(a)"


def test_a_rejection_effective_before_an_issuance_entered_earlier_voids_it() -> None:
    f = required()
    paid = {"amount": "300", "paid_at": iso("2000-03-10T09:00")}
    f.send("remit_withholding", "owner", "2000-03-10T09:00", paid)
    f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    rejected = {
        "ground": "payment_not_honoured",
        "reason": "the check of 03-01 bounced",
        "rejected_at": iso("2000-03-15T12:00"),
    }
    f.send("reject_exercise", "company", "2000-03-18T09:00", rejected)
    assert f.state == "rejected"
    [item] = _items(f)
    assert item["kind"] == "void" and item["fact"]["command"] == "issue_certificate"
    assert item["contradicted_by"]["command"] == "reject_exercise"


def test_the_company_marks_the_item_reconciled() -> None:
    f = required()
    paid = {"amount": "300", "paid_at": iso("2000-03-10T09:00")}
    f.send("remit_withholding", "owner", "2000-03-10T09:00", paid)
    f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    rejected = {
        "ground": "payment_not_honoured",
        "reason": "bounced",
        "rejected_at": iso("2000-03-15T12:00"),
    }
    f.send("reject_exercise", "company", "2000-03-18T09:00", rejected)
    r = f.refused("reconcile_exercise", "owner", "2000-03-19T09:00", {"item": "R1"})
    assert r.code == "not_authorised"
    d = f.send(
        "reconcile_exercise",
        "company",
        "2000-03-19T09:00",
        {"item": "R1", "note": "C-200 cancelled"},
    )
    assert types(d) == ["reconciliation_closed"] and f.state == "rejected"
    assert _items(f)[0]["status"] == "reconciled"
