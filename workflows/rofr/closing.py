"""Closing the company's purchase after it exercised the right.

FMP §6(d)(iii): payment and delivery of the endorsed certificates not more than 30 days after
delivery of the Exercise Notice; with a non-cash price valued in cash, on the later of the 30th
business day after that delivery and the 15th day after the valuation. RD ISO ¶11(d): the sale
is consummated on the Transfer Notice's terms (no fixed date). RD ISO ¶12(c): shares in escrow
are paid for through the escrow agent, who delivers the shares to the company and the payment
to the optionee within 30 days after payment.
"""

from __future__ import annotations

from datetime import datetime

from workflows.calendar import Deadline, combine
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.assignees import acting_assignee, check_assignee
from workflows.rofr.context import CLOSING, ESCROW_DELIVERY, Ctx, Step
from workflows.rofr.recording import record_purchase
from workflows.rofr.valued import needs_appraisal


def last_exercise(ctx: Ctx) -> dict[str, str]:
    elections = ctx.data.get("elections") or []
    if not elections:
        raise Refused(ctx.rofr.clause, "the right has not been exercised", "wrong_state")
    notice: dict[str, str] = elections[-1]["notice"]
    return notice


def last_exercise_at(ctx: Ctx) -> datetime:
    last_exercise(ctx)  # refused if there was none
    return ctx.instant("elections", -1, "notice", "effective_at")


@enforces(
    "rofr.closing",
    "rofr.non_cash.closing_business_days_after_exercise",
    "rofr.non_cash.closing_days_after_valuation",
)
def _closing_deadline(ctx: Ctx) -> Deadline | None:
    exercised, how = last_exercise_at(ctx), last_exercise(ctx)["derivation"]
    cal, nc = ctx.cal, ctx.rofr.non_cash
    what = "Exercise Notice delivered"
    if needs_appraisal(ctx) and ctx.data.get("pay_cash_value", True):
        assert nc.closing_business_days_after_exercise and nc.closing_days_after_valuation
        valued_at = ctx.instant("valuation", "valued_at")
        by_business_days = cal.business_days_after(
            exercised,
            nc.closing_business_days_after_exercise.value,
            clause=nc.closing_business_days_after_exercise.clause,
            what=what,
        )
        by_business_days = _explained(by_business_days, how)
        after_valuation = cal.days_after(
            valued_at,
            nc.closing_days_after_valuation.value,
            clause=nc.closing_days_after_valuation.clause,
            what="cash valuation made",
        )
        return combine("later", by_business_days, after_valuation, clause=nc.clause, what="closing")
    days = ctx.rofr.closing.days
    if days is None:
        return None
    return _explained(
        cal.days_after(exercised, days, clause=ctx.rofr.closing.clause, what=what), how
    )


def _explained(d: Deadline, how: str) -> Deadline:
    return Deadline(d.at, d.clause, f"{d.derivation} ({how})", d.parts)


@enforces("rofr.closing")
def schedule_closing(ctx: Ctx, step: Step) -> None:
    """Entering ``closing``: set the closing deadline (none where the terms fix no date)."""
    deadline = _closing_deadline(ctx)
    if deadline is None:
        step.event(
            "closing_scheduled",
            deadline=None,
            clause=ctx.rofr.closing.clause,
            shares=ctx.data.get("purchase_shares"),
        )
        return
    ctx.set_timer(
        step,
        CLOSING,
        deadline,
        Party.COMPANY,
        "pay the purchase price against the owner's endorsed certificates",
    )
    step.event(
        "closing_scheduled", deadline=deadline.as_dict(), shares=ctx.data.get("purchase_shares")
    )


@enforces("rofr.escrow.notices_to_escrow_agent")
def through_escrow(ctx: Ctx) -> bool:
    """Guard, RD ISO ¶12(c): shares in escrow are paid for through the escrow agent."""
    escrow = ctx.rofr.escrow
    return bool(ctx.data.get("escrow") and escrow and escrow.notices_to_escrow_agent.value)


@enforces("rofr.closing")
def complete_closing(ctx: Ctx, cmd: c.CompleteClosing) -> Step:
    clause = ctx.rofr.closing.clause
    if ctx.state != "closing":
        raise Refused(
            clause,
            f"nothing to close while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    check_assignee(ctx)
    closed_at = ctx.fact_time("closed_at", cmd.closed_at, clause)
    if closed_at < last_exercise_at(ctx):
        raise Refused(clause, "payload.closed_at is before the exercise took effect")
    price = cmd.amount_paid
    deadline = ctx.deadline(CLOSING)
    on_time = deadline is None or not deadline.passed(closed_at)
    record = {
        "closed_at": closed_at.isoformat(),
        "amount_paid": str(price) if price is not None else None,
        "on_time": on_time,
        "by": ctx.actor_record(),
    }
    ctx.data["closing"] = record
    step = Step("close", cancel_timers=[CLOSING])
    if not through_escrow(ctx):  # else entering escrow settlement says so
        step.event(
            "repurchase_closed", shares=ctx.data.get("purchase_shares"), **record, clause=clause
        )
        record_purchase(ctx, step, closed_at.isoformat(), acting_assignee(ctx))
    return step


@enforces("rofr.escrow.delivery_days_after_payment")
def start_escrow_delivery(ctx: Ctx, step: Step) -> None:
    """Entering ``escrow_settlement`` (RD ISO ¶12(c)): the escrow agent delivers the shares
    and the payment within the days the terms give after the payment."""
    escrow = ctx.rofr.escrow
    assert escrow is not None
    record = ctx.data["closing"]
    days = escrow.delivery_days_after_payment
    due = ctx.cal.days_after(
        ctx.instant("closing", "closed_at"),
        days.value,
        clause=days.clause,
        what="payment to the escrow agent",
    )
    ctx.set_timer(
        step,
        ESCROW_DELIVERY,
        due,
        Party.ESCROW_AGENT,
        "deliver the purchased shares to the company and the payment to the owner",
    )
    step.event(
        "purchase_price_paid_to_escrow_agent",
        shares=ctx.data.get("purchase_shares"),
        **record,
        delivery_deadline=due.as_dict(),
    )


@enforces("rofr.escrow.delivery_days_after_payment")
def release_escrow(ctx: Ctx, cmd: c.ReleaseEscrow) -> Step:
    escrow = ctx.rofr.escrow
    if escrow is None:
        raise Refused(ctx.rofr.clause, f"these terms ({ctx.terms.id}) have no escrow")
    clause = escrow.delivery_days_after_payment.clause
    if ctx.state != "escrow_settlement":
        pending = ctx.state in ("closing", "valuation")
        raise Refused(
            clause,
            f"the escrow agent has nothing to deliver {'yet' if pending else 'now'}: "
            f"the transfer is {ctx.describe()}",
            "wrong_state",
        )
    delivered_at = ctx.fact_time("delivered_at", cmd.delivered_at, clause)
    due = ctx.must_deadline(ESCROW_DELIVERY)
    step = Step("release", cancel_timers=[ESCROW_DELIVERY])
    step.event(
        "escrowed_shares_delivered",
        shares=ctx.data.get("purchase_shares"),
        delivered_at=delivered_at.isoformat(),
        on_time=not due.passed(delivered_at),
        clause=clause,
    )
    record_purchase(ctx, step, delivered_at.isoformat(), None)  # delivered to the company
    return step


def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name == CLOSING and ctx.state == "closing":
        step = Step("closing_deadline_passed")
        step.event("closing_deadline_passed", deadline=ctx.must_deadline(CLOSING).as_dict())
        return step
    if timer.name == ESCROW_DELIVERY and ctx.state == "escrow_settlement":
        step = Step("escrow_delivery_deadline_passed")
        step.event(
            "escrow_delivery_deadline_passed", deadline=ctx.must_deadline(ESCROW_DELIVERY).as_dict()
        )
        return step
    return None
