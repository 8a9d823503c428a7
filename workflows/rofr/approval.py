"""The company's approval of a reported sale before its books record it (RD ISO ¶11(e)).

RD ISO ¶11(e): the company may demand assurances that the transfer was carried out as the
notice described; nothing is recorded on its books until it has them (if demanded) and has
approved the transfer as bona fide. Terms without such an approval (FMP) record the sale as
reported.
"""

from __future__ import annotations

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.context import Ctx, Step
from workflows.rofr.recording import record_sale

PRE_SALE = "demand_assurances"  # the chart's event: its sources are the states before approval


@enforces("rofr.recording_needs_approval")
def needs_approval(ctx: Ctx) -> bool:
    """Guard, RD ISO ¶11(e): the company's books record the transfer only once approved."""
    return ctx.rofr.recording_needs_approval.value


@enforces("rofr.buyer_takes")
def recorded(ctx: Ctx, step: Step) -> None:
    takes = ctx.rofr.buyer_takes
    step.event(
        "transfer_recorded",
        buyer=ctx.data["sale"]["buyer"],
        shares=ctx.data["sale"]["shares"],
        buyer_takes=takes.value,
        clause=takes.clause,
    )
    record_sale(ctx, step)


@enforces("rofr.recording_needs_approval")
def _approval_terms(ctx: Ctx) -> str:
    approval = ctx.rofr.recording_needs_approval
    if not approval.value:
        raise Refused(approval.clause, "these terms record the sale without the company's approval")
    if ctx.state not in ctx.legal_in(PRE_SALE):
        raise Refused(
            approval.clause,
            f"no transfer awaits approval while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    return approval.clause


def demand_assurances(ctx: Ctx, cmd: c.DemandAssurances) -> Step:
    clause = _approval_terms(ctx)
    what = cmd.assurances or "that the transfer was carried out as described"
    ctx.data["assurances"] = {"demanded": what, "by": ctx.actor_record(), "provided": None}
    step = Step("demand_assurances")
    step.event("transfer_assurances_demanded", assurances=what, clause=clause)
    return step


def provide_assurances(ctx: Ctx, cmd: c.ProvideAssurances) -> Step:
    clause = _approval_terms(ctx)
    assurances = ctx.data.get("assurances")
    if not assurances:
        raise Refused(clause, "the company has demanded no assurances", "wrong_state")
    provided = cmd.assurances
    assurances["provided"] = {"text": provided, "by": ctx.actor_record()}
    step = Step("provide_assurances")
    step.event(
        "transfer_assurances_provided", assurances=provided, by=ctx.actor_record(), clause=clause
    )
    return step


def approve_transfer(ctx: Ctx, cmd: c.ApproveTransfer) -> Step:
    clause = _approval_terms(ctx)
    if ctx.state != "transfer_pending_approval":
        raise Refused(clause, "the sale has not been reported yet", "wrong_state")
    assurances = ctx.data.get("assurances")
    if assurances and not assurances.get("provided"):
        raise Refused(
            clause, "the assurances the company demanded have not been received", "wrong_state"
        )
    ctx.data["approved"] = {"by": ctx.actor_record()}
    step = Step("approve")
    step.event("transfer_approved", by=ctx.actor_record(), clause=clause)
    recorded(ctx, step)
    return step
