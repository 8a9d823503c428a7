"""The exercise on the kit: its command table, chart, timer rule and parties; ``decide`` is the
kit's (the ``WorkflowKind`` contract of the kernel)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from workflows.exercise import commands as c
from workflows.exercise import (
    delivery,
    ending,
    issuance,
    notice,
    payment,
    termination,
    timeline,
    withholding,
)
from workflows.exercise.context import Ctx, Step
from workflows.exercise.data import SCHEMA
from workflows.exercise.machine import CHART
from workflows.grants.decide import read_facts
from workflows.grants.facts import GrantFacts
from workflows.kernel import Decision, Message, Refused
from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.kit.reconcile import ReconcileItem, not_an_act
from workflows.reads import Reads, grant_named
from workflows.terms import Terms
from workflows.terms.exercise import ExerciseTerms

enforces("option_exercise.parties")(authorise)
enforces("option_exercise")(Kind.decide)

Rule = Callable[[Ctx, Any], Step]


def _from(rule: Rule, *transitions: str) -> Rule:
    """``rule``, run only in a state where one of ``transitions`` is on the chart: a command
    sent in the wrong state is refused as such before its rule reads data it has not got."""
    sources = CHART.sources(*transitions)

    def guarded(ctx: Ctx, cmd: Any) -> Step:
        if ctx.state not in sources:
            raise Refused(
                ctx.clause,
                f"cannot {ctx.command.replace('_', ' ')} while the exercise is "
                f"{CHART.describe(ctx.state)}",
                "wrong_state",
            )
        return rule(ctx, cmd)

    return guarded


CONDITION = "record_condition"

RECONCILE = "reconcile_exercise"

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "option_exercise",
    {
        "deliver_exercise_notice": Spec(
            c.DeliverExerciseNotice,
            _from(notice.deliver_exercise_notice, "submit_notice", "accept_notice"),
        ),
        "accept_payment": Spec(c.AcceptPayment, _from(payment.accept_payment, "accept_payment")),
        "refuse_payment": Spec(c.RefusePayment, _from(payment.refuse_payment, "refuse_payment")),
        "tender_payment": Spec(c.TenderPayment, _from(payment.tender_payment, "tender_for_review")),
        "require_withholding": Spec(
            c.RequireWithholding, _from(withholding.require_withholding, CONDITION)
        ),
        "remit_withholding": Spec(
            c.RemitWithholding, _from(withholding.remit_withholding, CONDITION)
        ),
        "elect_withholding": Spec(
            c.ElectWithholding, _from(withholding.elect_withholding, "elect")
        ),
        "approve_election": Spec(
            c.DecideElection,
            withholding.after_tax_date(_from(withholding.approve_election, "approve_election")),
        ),
        "disapprove_election": Spec(
            c.DecideElection,
            withholding.after_tax_date(
                _from(withholding.disapprove_election, "disapprove_election")
            ),
        ),
        "request_investment_letter": Spec(
            c.RequestInvestmentLetter, _from(delivery.request_investment_letter, CONDITION)
        ),
        "deliver_investment_letter": Spec(
            c.DeliverInvestmentLetter, _from(delivery.deliver_investment_letter, CONDITION)
        ),
        "require_escrow": Spec(c.RequireEscrow, _from(delivery.require_escrow, CONDITION)),
        "deliver_escrow_agreement": Spec(
            c.DeliverEscrowAgreement, _from(delivery.deliver_escrow_agreement, CONDITION)
        ),
        "issue_certificate": Spec(c.IssueCertificate, _from(issuance.issue_certificate, "issue")),
        "reject_exercise": Spec(c.RejectExercise, _from(ending.reject_exercise, "reject")),
        "withdraw_exercise": Spec(c.WithdrawExercise, _from(ending.withdraw_exercise, "withdraw")),
        "record_termination": Spec(
            c.RecordTermination, _from(termination.record_termination, "record_termination")
        ),
        # Bookkeeping the kit does itself (workflows.kit.reconcile): never a rule of the chart.
        RECONCILE: Spec(ReconcileItem, not_an_act),
    },
    aliases={"deliver_notice_of_exercise": "deliver_exercise_notice"},  # FMP Exhibit A's name
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(withholding.on_timer,),
    parties=lambda ctx: ctx.ex.parties,
    data=SCHEMA,
    terms_section=ExerciseTerms,
    effective=timeline.EFFECTIVE,
    ranks=timeline.RANKS,
    reconcile_command=RECONCILE,
    internal=frozenset({"record_termination"}),  # sent by the grant's termination only
)

#: The facts of other workflows an exercise reads: its grant's.
FACTS = GrantFacts


def reads(state: str | None, data: Mapping[str, Any], message: Message) -> Reads:
    """Every message of an exercise reads its grant's facts, under the grant's lock (each may
    replay the notice, judged on them): the grant named by the notice, then kept in the data.
    Two exercises of one grant so never decide at once, and each sees the other's claim."""
    return grant_named(data, message, "grant", "grant_id")


def decide(
    state: str | None,
    data: Mapping[str, Any],
    message: Message,
    now: datetime,
    terms: Terms | Mapping[str, Any],
    facts: GrantFacts | Mapping[str, Any] | None = None,
) -> Decision:
    kind = replace(KIND, context=partial(Ctx, grant_facts=read_facts(GrantFacts, facts)))
    return kind.decide(state, data, message, now, terms)
