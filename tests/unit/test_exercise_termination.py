"""The termination as the termination workflow reports it to an exercise (FMP §5, RD ISO ¶7),
judged by when it took effect, whatever the order of entry (docs/design.md, "Exercise and
termination across workflows")."""

from __future__ import annotations

from typing import Any

from exercise_flow import FMP, cash, facts, flow, notice
from kind_flow import KindFlow, delivered, iso, types

from workflows.kit.timeline import TIMELINE

ISSUE = {"certificate_number": "C-300", "issued_at": iso("2000-03-16T09:00")}


def _termination(
    effective: str, ends: str, *, retained: int = 2_500, reason: str = "without_cause"
) -> dict[str, Any]:
    return {
        "termination": "t-1",
        "reason": reason,
        "terminated_on": effective[:10],
        "effective_at": iso(effective),
        "retained": retained,
        "window_ends_at": iso(ends),
        "window_derivation": f"FMP §5(a): terminated {effective[:10]} + 30 days",
        "clause": "FMP §5(a)",
    }


def _exercised(shares: int = 1_000) -> KindFlow:
    f = flow(FMP)
    body = notice(
        shares,
        [cash(f"{shares * 0.5:.2f}")],
        delivered("2000-03-01T10:00"),
        facts(),
        investment_statement=True,
    )
    f.send("deliver_exercise_notice", "owner", "2000-03-01T11:00", body)
    assert f.state == "pending_delivery"
    return f


def _voided(f: KindFlow) -> dict[str, str]:
    return {
        i["fact"]["command"]: i["clause"]
        for i in f.data[TIMELINE]["reconciliation"]
        if i["kind"] == "void"
    }


def test_a_notice_effective_before_a_termination_entered_later_stands() -> None:
    f = _exercised()
    d = f.send(
        "record_termination", "system", "2000-03-10T09:00",
        _termination("2000-03-05T23:59:59.999999", "2000-04-04T23:59:59.999999", retained=0),
    )  # fmt: skip
    assert types(d) == ["termination_recorded"] and f.state == "pending_delivery"
    f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert f.state == "completed" and f.data[TIMELINE]["reconciliation"] == []


def test_a_termination_for_cause_effective_before_the_notice_voids_the_exercise() -> None:
    f = _exercised()
    f.send("issue_certificate", "company", "2000-03-16T09:00", ISSUE)
    assert f.state == "completed"
    # Dismissed for cause on 2000-02-28 (FMP §5(c): the option ended at once); entered later.
    cause = _termination("2000-02-28T00:00", "2000-02-28T00:00", reason="for_cause")
    d = f.send("record_termination", "system", "2000-03-20T09:00", cause)
    assert f.state == "new" and f.data["termination"]["reason"] == "for_cause"
    voided = _voided(f)
    assert voided["deliver_exercise_notice"] == "FMP §5"
    assert "issue_certificate" in voided
    assert "fact_voided" in types(d)


def test_a_notice_inside_the_window_is_limited_to_the_shares_exercisable_at_termination() -> None:
    f = _exercised(1_000)
    within = _termination("2000-02-20T23:59:59.999999", "2000-03-21T23:59:59.999999", retained=500)
    f.send("record_termination", "system", "2000-03-03T09:00", within)
    assert f.state == "new"
    [item] = f.data[TIMELINE]["reconciliation"]
    assert item["fact"]["command"] == "deliver_exercise_notice" and item["clause"] == "FMP §5"
    assert "only 500 shares may be exercised" in item["reason"]
    # A notice for what was exercisable at termination, inside the window, stands.
    body = notice(500, [cash("250")], delivered("2000-03-04T10:00"), facts(as_of="2000-03-04"))
    f.send("deliver_exercise_notice", "owner", "2000-03-04T11:00", body)
    assert f.state == "pending_delivery"


def test_a_late_notice_after_the_window_is_refused() -> None:
    f = flow(FMP)
    f.send(
        "record_termination", "system", "2000-02-25T09:00",
        _termination("2000-01-20T23:59:59.999999", "2000-02-19T23:59:59.999999"),
    )  # fmt: skip
    body = notice(100, [cash("50")], delivered("2000-03-01T10:00"), facts())
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", body)
    assert r.rule == "FMP §5" and r.code == "late" and "post-termination window closed" in r.reason


def test_an_exercise_the_termination_counted_as_held_stands_inside_the_window() -> None:
    """Accepted before the termination was entered: the termination counted its 2,000 shares as
    held (2,500 exercisable on the last day, 500 retained). Its notice, effective inside the
    window, is judged again in its place and stands."""
    f = _exercised(2_000)
    held = _termination("2000-02-28T23:59:59.999999", "2000-03-29T23:59:59.999999", retained=500)
    f.send("record_termination", "system", "2000-03-03T09:00",
           held | {"exercised_at_termination": 2_000})  # fmt: skip
    assert f.state == "pending_delivery" and f.data[TIMELINE]["reconciliation"] == []
