"""Withholding tax as a condition of delivery, and FMP's Election to pay it in shares.

FMP §13(a), RD ISO ¶4(d): the Company may require the tax withheld to be remitted as a condition
of delivering the shares. FMP §13(b)–(c): with the Board's consent the optionee may elect to have
shares withheld or to tender shares worth the tax on the Tax Date; the written Election says all
or a stated percentage, and flat rate or W-4; it is valid only once the Board approves it, is
irrevocable unless the Board disapproves it, and is deemed approved if the Board has not acted on
or before the Tax Date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from workflows.calendar import Deadline
from workflows.exercise import commands as c
from workflows.exercise.context import TAX_DATE, Ctx, Step, money
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.terms.exercise import ElectionTerms


@enforces(
    "option_exercise.withholding.condition_of_delivery",
    "option_exercise.withholding.later_remittance",
)
def require_withholding(ctx: Ctx) -> Step:
    rule = ctx.ex.withholding.condition_of_delivery
    if not rule.value:
        raise Refused(rule.clause, "these terms do not make withholding a condition of delivery")
    if ctx.data.get("election"):
        raise Refused(
            _election_terms(ctx).irrevocable_unless_disapproved.clause,
            "an Election answers the withholding already required; it cannot be re-set now",
        )
    cmd = ctx.typed(c.RequireWithholding)
    later = ctx.ex.withholding.later_remittance
    if cmd.remit_by is not None and not later.value:
        raise Refused(later.clause, "the tax must be remitted at the time of delivery")
    fmv = cmd.fair_market_value
    ctx.data["withholding"] = {
        "amount": money(cmd.amount),
        "tax_date": cmd.tax_date.isoformat(),
        "fair_market_value": money(fmv) if fmv is not None else None,
        "remitted": money(Decimal(0)),
        "remittances": [],
        "clause": rule.clause,
        "by": ctx.actor_record(),
    }
    if cmd.remit_by is not None:
        ctx.data["withholding"].update(remit_by=cmd.remit_by.isoformat(), later_clause=later.clause)
    step = Step("record_condition")
    step.event(
        "withholding_required",
        amount=money(cmd.amount),
        tax_date=str(cmd.tax_date),
        clause=rule.clause,
    )
    return step


def _withholding(ctx: Ctx) -> dict[str, Any]:
    found = ctx.data.get("withholding")
    if not found:
        rule = ctx.ex.withholding.condition_of_delivery
        raise Refused(rule.clause, "the Company has not required any withholding", "wrong_state")
    return dict(found)


def remit_withholding(ctx: Ctx) -> Step:
    cmd = ctx.typed(c.RemitWithholding)
    paid = ctx.past(cmd.paid_at, "paid_at")
    w = _withholding(ctx)
    w["remitted"] = money(Decimal(w["remitted"]) + cmd.amount)
    w["remittances"] = [
        *w["remittances"],
        {"amount": money(cmd.amount), "at": paid.isoformat(), "method": cmd.method},
    ]
    ctx.data["withholding"] = w
    step = Step("record_condition")
    step.event(
        "withholding_remitted",
        amount=money(cmd.amount),
        remitted=w["remitted"],
        due=w["amount"],
        clause=w["clause"],
    )
    return step


def _election_terms(ctx: Ctx) -> ElectionTerms:
    found = ctx.ex.withholding.election
    if found is None:
        raise Refused(ctx.clause, "these terms provide no withholding Election", "not_provided")
    return found


@enforces("option_exercise.withholding.election")
def elect_withholding(ctx: Ctx) -> Step:
    terms = _election_terms(ctx)
    cmd = ctx.typed(c.ElectWithholding)
    w = _withholding(ctx)
    if ctx.data.get("election"):
        raise Refused(
            terms.irrevocable_unless_disapproved.clause,
            "the Election once made is irrevocable unless the Board disapproves it",
        )
    if cmd.method not in terms.methods.value:
        raise Refused(terms.methods.clause, f"no Election to pay withholding by {cmd.method}")
    if cmd.rate_basis not in terms.rate_bases.value:
        raise Refused(
            terms.rate_bases.clause,
            f"the Election's rate basis may be: {', '.join(terms.rate_bases.value)}",
        )
    if (cmd.portion == "percentage") != (cmd.percentage is not None):
        raise Refused(
            terms.rate_bases.clause,
            "the Election states all, or a stated percentage (give percentage only then)",
            "invalid_payload",
        )
    notice = ctx.notice("withholding_election", terms.methods.clause)
    pct = Decimal(100) if cmd.portion == "all" else cmd.percentage
    assert pct is not None
    ctx.data["election"] = {
        "method": cmd.method,
        "portion": cmd.portion,
        "percentage": str(pct),
        "rate_basis": cmd.rate_basis,
        "notice": notice.record(Party.OWNER, Party.COMPANY),
        "status": "pending",
    }
    step = Step("elect")
    step.event("withholding_election_made", election=ctx.data["election"])
    tax_date = date.fromisoformat(w["tax_date"])
    end = ctx.cal.end_of_day(tax_date)
    deemed = terms.deemed_approved_at_tax_date
    if deemed.value and notice.at <= end:
        why = (
            f"{deemed.clause}: Tax Date {tax_date} → {ctx.cal.fmt(end)} (deemed approved "
            "if the Board has not approved or disapproved it by then)"
        )
        ctx.set_timer(
            step,
            TAX_DATE,
            Deadline(end, deemed.clause, why),
            Party.BOARD,
            "approve or disapprove the withholding Election",
        )
    return step


def _decide(ctx: Ctx, approved: bool) -> Step:
    terms = _election_terms(ctx)
    cmd = ctx.typed(c.DecideElection)
    decided = ctx.past(cmd.decided_at, "decided_at")
    tax_deadline = ctx.deadline(TAX_DATE)
    if not approved and tax_deadline is not None and tax_deadline.passed(decided):
        raise Refused(
            terms.deemed_approved_at_tax_date.clause,
            f"the Board acted {ctx.cal.fmt(decided)}, after the Tax Date: the Election was "
            f"deemed approved at {ctx.cal.fmt(tax_deadline.at)} ({tax_deadline.derivation})",
            "late",
        )
    election = dict(ctx.data["election"])
    election.update(
        status="approved" if approved else "disapproved",
        decided_at=decided.isoformat(),
        resolution=cmd.resolution or (ctx.actor.reference if ctx.actor else ""),
        by=ctx.actor_record(),
    )
    step = Step("approve_election" if approved else "disapprove_election")
    step.cancel_timers.append(TAX_DATE)
    ctx.data.get("deadlines", {}).pop(TAX_DATE, None)
    if approved:
        ctx.data["election"] = election
        step.event(
            "withholding_election_approved",
            election=election,
            clause=terms.needs_board_approval.clause,
        )
    else:  # the optionee may remit the tax, or make a new Election
        ctx.data.pop("election")
        ctx.data.setdefault("elections_disapproved", []).append(election)
        step.event(
            "withholding_election_disapproved",
            election=election,
            clause=terms.irrevocable_unless_disapproved.clause,
        )
    return step


def after_tax_date(rule: Callable[[Ctx], Step]) -> Callable[[Ctx], Step]:
    """``rule`` for the Board's decision, first refusing one that comes after the Tax Date
    deemed the Election approved (FMP §13(c)(iii)). Acts are replayed by effective time, so the
    Tax Date's timer has already moved the exercise on when such a decision is judged: say why,
    not merely that the state is wrong."""

    def judged(ctx: Ctx) -> Step:
        election = ctx.data.get("election") or {}
        if election.get("status") == "deemed_approved":
            decided = ctx.past(ctx.typed(c.DecideElection).decided_at, "decided_at")
            raise Refused(
                _election_terms(ctx).deemed_approved_at_tax_date.clause,
                f"the Board acted {ctx.cal.fmt(decided)}, after the Tax Date: the Election was "
                f"deemed approved ({election.get('derivation', '')})",
                "late",
            )
        return rule(ctx)

    return judged


@enforces("option_exercise.withholding.election.needs_board_approval")
def approve_election(ctx: Ctx) -> Step:
    return _decide(ctx, approved=True)


@enforces("option_exercise.withholding.election.irrevocable_unless_disapproved")
def disapprove_election(ctx: Ctx) -> Step:
    return _decide(ctx, approved=False)


@enforces("option_exercise.withholding.election.deemed_approved_at_tax_date")
def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name != TAX_DATE or ctx.state != "election_pending":
        return None
    d = ctx.must_deadline(TAX_DATE)
    election = dict(ctx.data["election"])
    election.update(status="deemed_approved", decided_at=d.at.isoformat(), derivation=d.derivation)
    ctx.data["election"] = election
    ctx.data["deadlines"].pop(TAX_DATE, None)
    step = Step("election_deemed_approved")
    step.event(
        "withholding_election_deemed_approved",
        election=election,
        clause=d.clause,
        derivation=d.derivation,
    )
    return step


def covered_by_election(ctx: Ctx) -> Decimal:
    """The part of the required withholding the approved Election pays."""
    e, w = ctx.data.get("election"), ctx.data.get("withholding")
    if not e or not w or e["status"] not in ("approved", "deemed_approved"):
        return Decimal(0)
    return Decimal(w["amount"]) * Decimal(e["percentage"]) / 100


@enforces("option_exercise.withholding.condition_of_delivery")
def outstanding(ctx: Ctx) -> Decimal:
    """Withholding still owed before the shares may be delivered."""
    w = ctx.data.get("withholding")
    if not w:
        return Decimal(0)
    owed = Decimal(w["amount"]) - Decimal(w["remitted"]) - covered_by_election(ctx)
    return max(owed, Decimal(0))
