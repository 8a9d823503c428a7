"""``decide``: one message in, one decision out (the ``WorkflowKind`` contract of the kernel)."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflows.kernel import Command, Decision, Message, Refused, TimerFired
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.payload import read
from workflows.rofr import closing, election, exempt, lapse, notice, sale, valuation
from workflows.rofr import commands as c
from workflows.rofr.context import Ctx, Step
from workflows.rofr.machine import target
from workflows.terms import Terms, as_terms

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "rofr",
    {
        "deliver_transfer_notice": Spec(c.DeliverTransferNotice, notice.deliver_transfer_notice),
        "reject_transfer_notice": Spec(c.RejectTransferNotice, notice.reject_transfer_notice),
        "assign_rofr": Spec(c.AssignRofr, election.assign_rofr),
        "exercise_rofr": Spec(c.ExerciseRofr, election.exercise_rofr),
        "waive_rofr": Spec(c.WaiveRofr, election.waive_rofr),
        "choose_sale_alternative": Spec(c.ChooseSaleAlternative, election.choose_sale_alternative),
        "agree_cash_value": Spec(c.AgreeCashValue, valuation.agree_cash_value),
        "appoint_joint_appraiser": Spec(c.AppointJointAppraiser, valuation.appoint_joint_appraiser),
        "appoint_appraisers": Spec(c.AppointAppraisers, valuation.appoint_appraisers),
        "record_valuation": Spec(c.RecordValuation, valuation.record_valuation),
        "complete_closing": Spec(c.CompleteClosing, closing.complete_closing),
        "release_escrow": Spec(c.ReleaseEscrow, closing.release_escrow),
        "report_third_party_sale": Spec(c.ReportThirdPartySale, sale.report_third_party_sale),
        "demand_assurances": Spec(c.DemandAssurances, sale.demand_assurances),
        "provide_assurances": Spec(c.ProvideAssurances, sale.provide_assurances),
        "approve_transfer": Spec(c.ApproveTransfer, sale.approve_transfer),
        "record_lapse_event": Spec(c.RecordLapseEvent, lapse.record_lapse_event),
        "propose_exempt_transfer": Spec(c.ProposeExemptTransfer, exempt.propose_exempt_transfer),
        "consent_to_transfer": Spec(c.ConsentToTransfer, exempt.consent_to_transfer),
        "refuse_consent": Spec(c.RefuseConsent, exempt.refuse_consent),
        "acknowledge_transfer_terms": Spec(
            c.AcknowledgeTransferTerms, exempt.acknowledge_transfer_terms
        ),
        "complete_exempt_transfer": Spec(c.CompleteExemptTransfer, exempt.complete_exempt_transfer),
    },
    aliases={"deliver_disposition_notice": "deliver_transfer_notice"},  # FMP §6(d)(ii)'s name
)
TIMER_RULES = (election.on_timer, valuation.on_timer, closing.on_timer, sale.on_timer)


def _authorise(ctx: Ctx, name: str) -> None:
    allowed = ctx.rofr.parties.get(name)
    if allowed is None:
        raise Refused(
            ctx.rofr.clause, f"these terms ({ctx.terms.id}) provide no {name}", "not_provided"
        )
    if ctx.party not in allowed.value:
        who = ", ".join(str(p) for p in allowed.value)
        raise Refused(
            allowed.clause,
            f"the {ctx.party} may not {name.replace('_', ' ')}; only: {who}",
            "not_authorised",
        )


def _on_command(ctx: Ctx, command: Command) -> Step:
    name = COMMANDS.resolve(command.name)
    spec = COMMANDS.specs[name]
    ctx.command, ctx.actor, ctx.payload = name, command.actor, command.payload
    _authorise(ctx, name)
    # The model checks shape and types; the rules then read the payload as sent.
    read(spec.payload, command.payload, command.name)
    try:
        return spec.rule(ctx)
    except (LookupError, TypeError, ValueError, AttributeError, ArithmeticError) as e:
        # A payload shape no rule anticipated: refuse it (the data was copied, so nothing
        # changed) rather than let it crash the consumer.
        raise Refused(ctx.rofr.clause, f"malformed {name} payload: {e!r}", "malformed") from e


def _on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    recorded = ctx.deadline(timer.name)
    if recorded is None or recorded.at != timer.due_at:
        return None  # a deadline since replaced: the timer that fired is stale
    for rule in TIMER_RULES:
        step = rule(ctx, timer)
        if step is not None:
            return step
    return None


def decide(
    state: str | None,
    data: Mapping[str, Any],
    message: Message,
    now: datetime,
    terms: Terms | Mapping[str, Any],
) -> Decision:
    current = state or "new"
    ctx = Ctx(current, copy.deepcopy(dict(data)), as_terms(terms), now)
    if isinstance(message, TimerFired):
        step = _on_timer(ctx, message)
        if step is None:  # nothing left for this timer to do in this state
            return Decision(state=current, data=dict(data))
        action = f"act on {message.name}"
    else:
        step = _on_command(ctx, message)
        action = ctx.command.replace("_", " ")
    to = target(current, step.transition, rule=ctx.rofr.clause, action=action)
    return Decision(
        state=to.id,
        data=ctx.data,
        events=tuple(step.events),
        set_timers=tuple(step.set_timers),
        cancel_timers=tuple(dict.fromkeys(step.cancel_timers)),
        final=bool(to.final),
    )
