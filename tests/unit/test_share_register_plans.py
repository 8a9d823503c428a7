"""Shares issued under a plan and repurchased by the Company return to its reserve (RD Plan ¶4):
the register traces a certificate to the plan of the exercise that issued it, through the
certificates made of it, and counts the shares the Company takes back once; founders' shares
trace to no plan, and a repurchase held void returns nothing."""

from __future__ import annotations

from typing import Any

from kind_flow import KindFlow, iso
from test_share_register import ALEX, BO, LEGEND, issued, opened
from test_share_register_link_rules import EXERCISE, RD_ISO, ROFR, by, sale

from workflows.shares.plans import returned

PLAN = "raydream-1992"


def exercised(shares: int = 1_000, plan: str | None = PLAN) -> KindFlow:
    flow = opened(RD_ISO, [])
    issuance: dict[str, Any] = {
        "act": "issue-1", "number": "101", "holder": ALEX, "shares": shares,
        "issued_at": iso("2026-03-02T10:30"), "legends": [LEGEND],
    }  # fmt: skip
    if plan is not None:
        issuance["plan"] = plan
    by(flow, "record_exercise_issuance", "2026-03-02T11:00", issuance, EXERCISE)
    return flow


def purchase(act: str, shares: int, when: str, **more: Any) -> dict[str, Any]:
    return {"act": act, "holder": "alex", "shares": shares, "effective_at": iso(when),
            "clause": "RD ISO ¶11(d)"} | more  # fmt: skip


def test_shares_of_an_exercise_the_company_repurchases_return_to_its_plan_once() -> None:
    flow = exercised()
    assert flow.data["certificates"]["101"]["plan"] == PLAN
    by(
        flow,
        "record_rofr_repurchase",
        "2026-06-02T09:00",
        purchase("close-1", 250, "2026-06-01T12:00"),
    )
    assert returned(flow.data, PLAN) == 250
    assert flow.data["certificates"]["101"]["cancelled"]["returned_to_plan"] == PLAN
    balance = next(c for c in flow.data["certificates"].values() if not c.get("cancelled"))
    assert (balance["shares"], balance["plan"]) == (750, PLAN)  # the same shares, the same plan
    again = flow.refused("record_rofr_repurchase", "system", "2026-06-03T09:00",
                         purchase("close-1", 250, "2026-06-01T12:00"),
                         actor="rofr", reference=ROFR)  # fmt: skip
    assert again.code == "already_recorded" and returned(flow.data, PLAN) == 250
    by(
        flow,
        "record_rofr_repurchase",
        "2026-07-02T09:00",
        purchase("close-2", 750, "2026-07-01T12:00"),
    )
    assert returned(flow.data, PLAN) == 1_000 and returned(flow.data, "another-plan") == 0


def test_founders_shares_the_company_repurchases_return_to_no_plan() -> None:
    flow = issued(opened(RD_ISO, []))
    by(
        flow,
        "record_rofr_repurchase",
        "2026-06-02T09:00",
        purchase("close-1", 400, "2026-06-01T12:00"),
    )
    assert flow.data.get("plan_returns") in (None, {})
    assert "returned_to_plan" not in next(iter(flow.data["certificates"].values()))["cancelled"]


def test_an_exercise_recorded_without_its_plan_returns_nothing() -> None:
    flow = exercised(plan=None)
    by(
        flow,
        "record_rofr_repurchase",
        "2026-06-02T09:00",
        purchase("close-1", 250, "2026-06-01T12:00"),
    )
    assert flow.data.get("plan_returns") in (None, {})


def test_a_repurchase_held_void_returns_nothing_to_the_plan() -> None:
    flow = exercised()
    by(
        flow,
        "record_rofr_repurchase",
        "2026-06-02T09:00",
        purchase("close-1", 1_000, "2026-06-01T12:00"),
    )
    assert returned(flow.data, PLAN) == 1_000
    void = {"act": "close-1", "clause": "RD ISO ¶11(f)", "reason": "the purchase was void"}
    by(flow, "void_rofr_transfer", "2026-06-10T09:00", void)
    assert returned(flow.data, PLAN) == 0


def test_the_plan_follows_the_shares_to_a_transferee_not_onto_merged_shares() -> None:
    flow = exercised()
    by(flow, "record_rofr_transfer", "2026-05-05T09:00", sale())  # 400 to Bo, 600 balance
    held = {c["holder"]: c for c in flow.data["certificates"].values() if not c.get("cancelled")}
    assert held["bo"]["plan"] == PLAN and held["alex"]["plan"] == PLAN
    # Bo's plan shares and founders' shares on one certificate can no longer be told apart.
    founders = {"holder": BO, "shares": 100, "number": "900", "issued_at": iso("2026-05-10T10:00")}
    flow.send("issue_share_certificate", "company", "2026-05-10T11:00", founders)
    merged = {
        "surrendered": [{"number": n, "endorsement": "endorsed", "endorsed_by": "Bo"}
                        for n in (held["bo"]["number"], "900")],
        "transferee": {"id": "cy", "name": "Cy", "address": "3 Pine St, Napa CA"},
        "shares": 500, "effective_at": iso("2026-05-20T12:00"),
    }  # fmt: skip
    flow.send("record_share_transfer", "company", "2026-05-20T13:00", merged)
    cy = next(c for c in flow.data["certificates"].values() if c["holder"] == "cy")
    assert "plan" not in cy
