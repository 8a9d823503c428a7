"""The termination on the kit: its command table, chart, timer rule and parties; ``decide`` is
the kit's, with the terminated grant's facts (``GrantFacts``) handed to the context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial
from typing import Any

from workflows.grants.decide import read_facts
from workflows.grants.facts import GrantFacts
from workflows.kernel import Decision, Message
from workflows.kit.clauses import enforces
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.dispatch import Kind
from workflows.kit.parties import authorise
from workflows.kit.reconcile import ReconcileItem, not_an_act
from workflows.reads import Reads, grant_named
from workflows.termination import commands as c
from workflows.termination import rules, timeline
from workflows.termination.context import Ctx, Step
from workflows.termination.data import SCHEMA
from workflows.termination.machine import CHART
from workflows.terms import Terms
from workflows.terms.termination import TerminationTerms

enforces("termination.parties")(authorise)
enforces("termination")(Kind.decide)

#: The facts of other workflows a termination reads: the terminated grant's.
FACTS = GrantFacts

RECONCILE = "reconcile_termination"

COMMANDS: CommandTable[Ctx, Step] = CommandTable(
    "termination",
    {
        "terminate_service": Spec(c.TerminateService, rules.terminate_service),
        "record_death": Spec(c.RecordDeath, rules.record_death),
        "record_exercise_prevented": Spec(
            c.RecordExercisePrevented, rules.record_exercise_prevented
        ),
        "notify_exercisable": Spec(c.NotifyExercisable, rules.notify_exercisable),
        "record_section_16b_exposure": Spec(
            c.RecordSection16bExposure, rules.record_section_16b_exposure
        ),
        # Bookkeeping the kit does itself (workflows.kit.reconcile): never a rule of the chart.
        RECONCILE: Spec(ReconcileItem, not_an_act),
    },
)
KIND: Kind[Ctx] = Kind(
    context=Ctx,
    commands=COMMANDS,
    chart=CHART,
    timer_rules=(rules.on_timer,),
    parties=lambda ctx: ctx.termination.parties,
    data=SCHEMA,
    terms_section=TerminationTerms,
    effective=timeline.EFFECTIVE,
    ranks=timeline.RANKS,
    reconcile_command=RECONCILE,
)


def reads(state: str | None, data: Mapping[str, Any], message: Message) -> Reads:
    """Every message of a termination reads its grant's facts, under the grant's lock: the
    grant named when it started, or by the command that starts it."""
    return grant_named(data, message, "grant")


def decide(
    state: str | None,
    data: Mapping[str, Any],
    message: Message,
    now: datetime,
    terms: Terms | Mapping[str, Any],
    facts: GrantFacts | Mapping[str, Any] | None = None,
) -> Decision:
    kind = replace(KIND, context=partial(Ctx, facts=read_facts(GrantFacts, facts)))
    return kind.decide(state, data, message, now, terms)
