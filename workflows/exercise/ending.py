"""The exercise ends without shares: rejected by the Company, or withdrawn by the optionee.

FMP Exhibit A: the optionee "irrevocably elects" to exercise, so the notice stands once given;
it may be withdrawn only once the Board has refused the payment tendered (no exercise can then
complete without another). RD ISO ¶4(b) makes the notice no such promise: it may be withdrawn
until the certificate issues.
"""

from __future__ import annotations

from workflows.exercise import commands as c
from workflows.exercise.context import TAX_DATE, Ctx, Step
from workflows.exercise.machine import CHART
from workflows.kernel import Refused
from workflows.kit.clauses import enforces


def _grounds(ctx: Ctx) -> dict[str, str]:
    ex = ctx.ex
    return {
        "payment_not_honoured": ex.payment.full_payment_with_notice.clause,
        "securities_law": ex.securities_law.clause,
        "notice_defective": ex.notice.name.clause,
        "conditions_unmet": ex.withholding.condition_of_delivery.clause,
    }


def reject_exercise(ctx: Ctx) -> Step:
    cmd = ctx.typed(c.RejectExercise)
    at = ctx.past(cmd.rejected_at, "rejected_at")
    clause = _grounds(ctx)[cmd.ground]
    ctx.data["rejection"] = {
        "ground": cmd.ground,
        "reason": cmd.reason,
        "clause": clause,
        "at": at.isoformat(),
        "by": ctx.actor_record(),
    }
    step = Step("reject", cancel_timers=[TAX_DATE])
    step.event("exercise_rejected", **ctx.data["rejection"])
    return step


@enforces("option_exercise.notice.irrevocable")
def withdraw_exercise(ctx: Ctx) -> Step:
    rule = ctx.ex.notice.irrevocable
    if rule.value and ctx.state != "awaiting_payment":
        raise Refused(
            rule.clause,
            f"the {ctx.ex.notice.name.value} is irrevocable: it may not be withdrawn while the "
            f"exercise is {CHART.describe(ctx.state)}",
        )
    cmd = ctx.typed(c.WithdrawExercise)
    at = ctx.past(cmd.withdrawn_at, "withdrawn_at")
    ctx.data["withdrawal"] = {"at": at.isoformat(), "clause": rule.clause}
    step = Step("withdraw", cancel_timers=[TAX_DATE])
    step.event("exercise_withdrawn", at=at.isoformat(), clause=rule.clause)
    return step
