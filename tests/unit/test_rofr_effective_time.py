"""Issue 14, findings 1 and 2: acts are judged by when they took effect, whatever the order in
which they are entered. A timely act entered late voids what it contradicts and raises a
reconciliation item naming the void fact, its clause and the act that voids it."""

from __future__ import annotations

from typing import Any

import pytest
from test_rofr_harness import (
    FMP_COMPLIANCE,
    Flow,
    delivered,
    event,
    fmp_notice,
    iso,
    rd_notice,
    types,
)

from workflows.kernel import TimerFired
from workflows.kit import context
from workflows.notices import effective_time

FMP, RD = "fmp-1998-nso", "raydream-1992-iso"
EXERCISE_0330 = {"notice": delivered("2026-03-30T09:00")}  # in time: the window ends 04-01


def sale(shares: int, sold_on: str, **extra: Any) -> dict[str, Any]:
    return {
        "buyer": {"name": "Bob Buyer"},
        "compliance": FMP_COMPLIANCE,  # FMP §6(d)(iv): not in contravention of §6(g), §6(h)
        "shares": shares,
        "price_per_share": "2.50",
        "sold_at": iso(sold_on),
        **extra,
    }


def rd_sale(sold_on: str) -> dict[str, Any]:
    return {
        "buyer": {"name": "Dan Transferee"},
        "shares": 500,
        "price_per_share": "4.00",
        "sold_at": iso(sold_on),
        "transferee_agreed_in_writing": True,
    }


def fmp_sold(shares: int) -> Flow:
    """FMP: notice 03-02; the company's Exercise Notice delivered 03-30 but not yet entered;
    the election timer fires; the owner reports a sale on 04-05."""
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.fire("election_deadline")
    flow.send(
        "report_third_party_sale", "owner", "2026-04-05T12:00", sale(shares, "2026-04-05T10:00")
    )
    return flow


def items(flow: Flow) -> list[dict[str, Any]]:
    return list(flow.data["timeline"]["reconciliation"])


def void_acts(flow: Flow) -> dict[str, str]:
    return {
        a["command"]: a["void"]["clause"] for a in flow.data["timeline"]["acts"] if a.get("void")
    }


def test_a_timely_exercise_entered_after_a_recorded_sale_wins_and_the_sale_is_void() -> None:
    flow = fmp_sold(1000)
    assert flow.state == "sold_to_third_party"
    d = flow.send("exercise_rofr", "company", "2026-04-06T09:00", EXERCISE_0330)
    assert flow.state == "closing" and flow.data["purchase_shares"] == 1000
    assert "sales" not in flow.data  # the void sale has no effect ...
    assert void_acts(flow) == {"report_third_party_sale": "FMP §6(i)"}  # ... but stays recorded
    voided = event(d, "fact_voided")
    assert voided["fact"]["command"] == "report_third_party_sale"
    assert voided["fact"]["effective_at"] == iso("2026-04-05T10:00")
    assert voided["clause"] == "FMP §6(i)"
    assert voided["contradicted_by"]["command"] == "exercise_rofr"
    raised = [e.payload for e in d.events if e.type == "reconciliation_raised"]
    assert {r["kind"] for r in raised} == {"void", "withdrawn"}  # the sale, the window's opening
    sale_item = next(r for r in raised if r["kind"] == "void")
    assert sale_item["status"] == "open" and sale_item in items(flow)
    assert sale_item["fact"]["entered_at"] == iso("2026-04-05T12:00")
    # The company's purchase runs from its exercise: closing 30 days after 03-30.
    assert flow.deadline("closing_deadline").date().isoformat() == "2026-04-29"
    assert types(d)[:2] == ["rofr_exercised", "closing_scheduled"]


def test_a_timely_exercise_entered_after_a_partial_sale_wins_too() -> None:
    flow = fmp_sold(10)
    assert flow.state == "owner_sale_window" and flow.data["sold_shares"] == 10
    flow.send("exercise_rofr", "company", "2026-04-06T09:00", EXERCISE_0330)
    assert flow.state == "closing" and flow.data["elected_shares"] == 1000
    assert void_acts(flow) == {"report_third_party_sale": "FMP §6(i)"}
    assert "sale_window_end" not in flow.timers


def test_rd_a_sale_awaiting_approval_then_approved_is_void_against_a_timely_exercise() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    flow.fire("election_deadline")
    flow.send("report_third_party_sale", "owner", "2026-04-05T12:00", rd_sale("2026-04-05T10:00"))
    assert flow.state == "transfer_pending_approval"
    flow.send("approve_transfer", "company", "2026-04-08T12:00", {}, actor="CFO")
    assert flow.state == "sold_to_third_party"
    notice = {"method": "certified_mail", "delivered_at": iso("2026-03-30T09:00")}
    d = flow.send("exercise_rofr", "company", "2026-04-09T09:00", {"notice": notice})
    assert flow.state == "closing"
    assert void_acts(flow) == {
        "report_third_party_sale": "RD ISO ¶11(f)",
        "approve_transfer": "RD ISO ¶11(f)",
    }
    facts = [e.payload["fact"] for e in d.events if e.type == "fact_voided"]
    assert [f["command"] for f in facts if "command" in f] == [
        "report_third_party_sale",
        "approve_transfer",
    ]
    # approve_transfer now finds no transfer to approve
    r = flow.refused("approve_transfer", "company", "2026-04-10T12:00", {}, actor="CFO")
    assert r.code == "wrong_state"


def test_rd_a_sale_awaiting_approval_does_not_block_a_timely_exercise() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    flow.fire("election_deadline")
    flow.send("report_third_party_sale", "owner", "2026-04-05T12:00", rd_sale("2026-04-05T10:00"))
    assert flow.state == "transfer_pending_approval"
    notice = {"method": "certified_mail", "delivered_at": iso("2026-03-30T09:00")}
    flow.send("exercise_rofr", "company", "2026-04-06T09:00", {"notice": notice})
    assert flow.state == "closing"
    assert void_acts(flow) == {"report_third_party_sale": "RD ISO ¶11(f)"}
    # and approve_transfer can no longer record the void transfer
    r = flow.refused("approve_transfer", "company", "2026-04-07T12:00", {}, actor="CFO")
    assert r.code == "wrong_state" and flow.state == "closing"


def test_a_new_notice_does_not_wipe_a_timely_exercise_on_the_earlier_one() -> None:
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached"
    second = fmp_notice(notice=delivered("2026-06-01T10:00"))
    flow.send("deliver_disposition_notice", "owner", "2026-06-01T10:00", second)
    flow.send("exercise_rofr", "company", "2026-06-02T09:00", EXERCISE_0330)
    assert flow.state == "closing" and "previous_notices" not in flow.data
    assert flow.data["transfer_notice"]["effective_at"] == iso("2026-03-02T10:00")
    assert list(void_acts(flow)) == ["deliver_transfer_notice"]


def test_a_lapse_recorded_before_a_timely_exercise_entered_later_lets_the_purchase_go_on() -> None:
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    ipo = {
        "event": "firm_commitment_offering",
        "occurred_at": iso("2026-03-25T09:00"),
        "offering_amount": "20000000",
        "firm_commitment": True,
        "registered": True,
    }
    flow.send("record_lapse_event", "company", "2026-03-26T09:00", ipo)
    assert flow.state == "lapsed"
    d = flow.send(
        "exercise_rofr", "company", "2026-03-27T09:00", {"notice": delivered("2026-03-20T09:00")}
    )
    # lapse.py: a purchase exercised before the event is a bargain made and proceeds to closing
    assert flow.state == "closing" and "lapse" not in flow.data
    assert void_acts(flow) == {"record_lapse_event": "FMP §6(d)(vi)(3)"}
    assert "the purchase proceeds to closing" in event(d, "fact_voided")["reason"]
    assert flow.timers["closing_deadline"].deadline.at.date().isoformat() == "2026-04-19"


def test_the_same_acts_in_the_other_order_give_the_same_workflow_without_an_item() -> None:
    a = fmp_sold(1000)
    a.send("exercise_rofr", "company", "2026-04-06T09:00", EXERCISE_0330)
    b = Flow(FMP)
    b.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    b.send("exercise_rofr", "company", "2026-03-30T12:00", EXERCISE_0330)
    r = b.refused(
        "report_third_party_sale", "owner", "2026-04-05T12:00", sale(1000, "2026-04-05T10:00")
    )
    assert r.code == "wrong_state"
    assert (a.state, a.data["purchase_shares"], a.timers.keys()) == (
        b.state,
        b.data["purchase_shares"],
        b.timers.keys(),
    )
    assert a.deadline("closing_deadline") == b.deadline("closing_deadline")
    assert items(b) == [] and [
        i["fact"]["command"] for i in items(a) if "command" in i["fact"]
    ] == ["report_third_party_sale"]


def test_a_late_act_refused_in_its_place_changes_nothing() -> None:
    flow = fmp_sold(1000)
    before = flow.data
    late = {"notice": delivered("2026-04-02T09:00")}  # after the election deadline
    r = flow.refused("exercise_rofr", "company", "2026-04-06T09:00", late)
    assert r.code == "late" and r.rule == "FMP §6(d)(iii)"
    assert flow.data is before and flow.state == "sold_to_third_party"


def test_a_timer_the_replay_already_fired_is_stale_when_its_message_comes() -> None:
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    election = flow.timers["election_deadline"]
    # The sale window opened at the election deadline, so a sale dated after it is judged there,
    # even though the deadlines service had not yet fired the election timer.
    d = flow.send(
        "report_third_party_sale", "owner", "2026-04-05T12:00", sale(1000, "2026-04-05T10:00")
    )
    assert flow.state == "sold_to_third_party"
    assert types(d)[:2] == ["election_window_expired", "sale_window_opened"]
    # Its deadline passed and took effect: spent, not cancelled (no deadline_cancelled).
    assert d.spent_timers == (TimerFired(election.name, election.deadline.at),)
    assert "election_deadline" not in d.cancel_timers

    again = flow.kind.decide(
        flow.state,
        flow.data,
        TimerFired(election.name, election.deadline.at),
        election.deadline.at,
        flow.terms,
    )
    assert again.events == () and again.state == flow.state and dict(again.data) == flow.data


def test_the_company_marks_an_item_reconciled_once() -> None:
    flow = fmp_sold(1000)
    flow.send("exercise_rofr", "company", "2026-04-06T09:00", EXERCISE_0330)
    [sale_item] = [i for i in items(flow) if i["kind"] == "void"]
    r = flow.refused("reconcile_rofr", "owner", "2026-04-07T09:00", {"item": sale_item["id"]})
    assert r.code == "not_authorised" and r.rule.startswith("FMP §6(i)")
    d = flow.send("reconcile_rofr", "company", "2026-04-07T09:00",
                  {"item": sale_item["id"], "note": "register shows alice's 1,000 shares"},
                  actor="Secretary")  # fmt: skip
    assert flow.state == "closing" and types(d) == ["reconciliation_closed"]
    closed = next(i for i in items(flow) if i["id"] == sale_item["id"])
    assert closed["status"] == "reconciled" and closed["reconciled"]["by"]["name"] == "Secretary"
    assert "closing_deadline" in flow.timers and d.set_timers == () and d.cancel_timers == ()
    r = flow.refused("reconcile_rofr", "company", "2026-04-07T10:00", {"item": sale_item["id"]})
    assert r.code == "wrong_state"
    r = flow.refused("reconcile_rofr", "company", "2026-04-07T10:00", {"item": "R99"})
    assert "no reconciliation item R99" in r.reason


def test_an_act_applied_at_once_reads_its_notice_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # The checks on entry read the notice's effective time (to place the act); the rule that
    # applies it at once is handed that reading rather than computing it again.
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    calls: list[str] = []

    def counted(kind: str, *args: Any, **kwargs: Any) -> Any:
        calls.append(kind)
        return effective_time(kind, *args, **kwargs)

    monkeypatch.setattr(context, "effective_time", counted)
    d = flow.send("exercise_rofr", "company", "2026-03-30T10:00", EXERCISE_0330)
    assert flow.state == "closing" and types(d)[0] == "rofr_exercised"
    assert calls == ["exercise_notice"]
