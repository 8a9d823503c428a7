"""The other conditions of delivery: the investment letter and the escrow agreement.

FMP §4(a)(iii): a letter of investment intent if the Company asks; FMP §9: a written statement
on each exercise while the shares are unregistered. RD ISO ¶4(f): the representations the
Company requests as a condition of exercise. RD ISO ¶12(a), ¶4(b)(ii): the Company may require
the certificates deposited with an escrow agent, with an executed escrow agreement.
"""

from __future__ import annotations

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step
from workflows.kernel import Refused
from workflows.kit.clauses import enforces


@enforces("option_exercise.investment_intent.letter_on_request")
def request_investment_letter(ctx: Ctx) -> Step:
    rule = ctx.ex.investment_intent.letter_on_request
    if not rule.value:
        raise Refused(rule.clause, "these terms give the Company no investment letter to ask for")
    cmd = ctx.typed(c.RequestInvestmentLetter)
    at = ctx.past(cmd.requested_at, "requested_at")
    letter = dict(ctx.data.get("investment_letter") or {})
    letter.update(required=True, requested_at=at.isoformat(), form=cmd.form, clause=rule.clause)
    letter.pop("delivered_at", None)  # a letter in the form now asked for is still owed
    ctx.data["investment_letter"] = letter
    step = Step("record_condition")
    step.event("investment_letter_requested", clause=rule.clause, form=cmd.form)
    return step


def deliver_investment_letter(ctx: Ctx) -> Step:
    letter = dict(ctx.data.get("investment_letter") or {})
    if not letter.get("required"):
        rule = ctx.ex.investment_intent.letter_on_request
        raise Refused(rule.clause, "no investment letter was asked for", "wrong_state")
    cmd = ctx.typed(c.DeliverInvestmentLetter)
    letter["delivered_at"] = ctx.past(cmd.delivered_at, "delivered_at").isoformat()
    ctx.data["investment_letter"] = letter
    step = Step("record_condition")
    step.event("investment_letter_delivered", delivered_at=letter["delivered_at"])
    return step


@enforces("option_exercise.escrow")
def require_escrow(ctx: Ctx) -> Step:
    rule = ctx.ex.escrow
    if not rule.value:
        raise Refused(rule.clause, "these terms give the Company no right to require escrow")
    cmd = ctx.typed(c.RequireEscrow)
    at = ctx.past(cmd.required_at, "required_at")
    ctx.data["escrow"] = {
        "agent": cmd.escrow_agent,
        "required_at": at.isoformat(),
        "clause": rule.clause,
    }
    step = Step("record_condition")
    step.event("escrow_required", escrow_agent=cmd.escrow_agent, clause=rule.clause)
    return step


def deliver_escrow_agreement(ctx: Ctx) -> Step:
    escrow = dict(ctx.data.get("escrow") or {})
    if not escrow:
        raise Refused(ctx.ex.escrow.clause, "the Company has not required escrow", "wrong_state")
    cmd = ctx.typed(c.DeliverEscrowAgreement)
    escrow["agreement_delivered_at"] = ctx.past(cmd.delivered_at, "delivered_at").isoformat()
    ctx.data["escrow"] = escrow
    step = Step("record_condition")
    step.event("escrow_agreement_delivered", delivered_at=escrow["agreement_delivered_at"])
    return step


def unmet(ctx: Ctx) -> list[tuple[str, str]]:
    """(clause, what is missing) for each condition of delivery still open but withholding."""
    missing = []
    letter = ctx.data.get("investment_letter") or {}
    if letter.get("required") and not letter.get("delivered_at"):
        missing.append((str(letter["clause"]), "the investment letter (statement of intent)"))
    escrow = ctx.data.get("escrow") or {}
    if escrow and not escrow.get("agreement_delivered_at"):
        missing.append((str(escrow["clause"]), "the executed escrow agreement"))
    return missing
