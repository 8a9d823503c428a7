"""One message in, one decision out, for any kind: resolve, authorise, check, rule, chart.

A kind supplies its command table, chart, timer rules and how to build its context; this module
is the ``decide`` of the kernel contract for all of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from workflows.kernel import Command, Decision, Message, Party, Refused, TimerFired
from workflows.kit.chart import Chart
from workflows.kit.commands import CommandTable
from workflows.kit.context import Context
from workflows.kit.data import VERSION_KEY, DataSchema
from workflows.kit.parties import authorise
from workflows.kit.payload import read
from workflows.kit.step import Step
from workflows.terms import Cited, Terms, as_terms

C = TypeVar("C", bound=Context)
DATA_RULE = "equityflow stored data"
TimerRule = Callable[[Any, TimerFired], Step | None]

# A payload shape no rule anticipated: refused (the data was copied, so nothing changed)
# rather than crash the consumer.
_UNANTICIPATED = (LookupError, TypeError, ValueError, AttributeError, ArithmeticError)


@dataclass(frozen=True)
class Kind(Generic[C]):
    context: Callable[[str, dict[str, Any], Terms, datetime], C]
    commands: CommandTable[C, Step]
    chart: Chart
    timer_rules: Sequence[TimerRule]
    parties: Callable[[C], Mapping[str, Cited[list[Party]]]]
    data: DataSchema
    #: Commands only other workflows send (by the system party, through the engine): the
    #: terms' parties table does not list them, and no party outside may send them.
    internal: frozenset[str] = frozenset()

    def decide(
        self,
        state: str | None,
        data: Mapping[str, Any],
        message: Message,
        now: datetime,
        terms: Terms | Mapping[str, Any],
    ) -> Decision:
        current = state or "new"
        loaded = self.data.load(copy.deepcopy(dict(data)), rule=DATA_RULE)
        ctx = self.context(current, loaded, as_terms(terms), now)
        if isinstance(message, TimerFired):
            step = self._on_timer(ctx, message)
            if step is None:  # nothing left for this timer to do in this state
                return Decision(state=current, data=dict(data))
            action = f"act on {message.name}"
        else:
            step = self._on_command(ctx, message)
            action = ctx.command.replace("_", " ")
        to = self.chart.target(current, step.transition, rule=ctx.clause, action=action)
        ctx.data[VERSION_KEY] = self.data.current  # a rule may have started the data afresh
        return Decision(
            state=to.id,
            data=ctx.data,
            events=tuple(step.events),
            set_timers=tuple(step.set_timers),
            cancel_timers=tuple(dict.fromkeys(step.cancel_timers)),
            final=bool(to.final),
            send=tuple(step.send),
        )

    def _on_command(self, ctx: C, command: Command) -> Step:
        name = self.commands.resolve(command.name)
        spec = self.commands.specs[name]
        ctx.command, ctx.actor, ctx.payload = name, command.actor, command.payload
        if name in self.internal or ctx.party is Party.SYSTEM:
            if not (name in self.internal and ctx.party is Party.SYSTEM):
                raise Refused(
                    ctx.clause,
                    f"{name} is sent by one workflow to another through the engine, and only "
                    "such commands come from the system party",
                    "not_authorised",
                )
        else:
            authorise(self.parties(ctx), name, ctx.party, clause=ctx.clause, terms_id=ctx.terms.id)
        # The model checks shape and types; the rules then read the payload as sent.
        read(spec.payload, command.payload, command.name)
        try:
            return spec.rule(ctx)
        except _UNANTICIPATED as e:
            raise Refused(ctx.clause, f"malformed {name} payload: {e!r}", "malformed") from e

    def _on_timer(self, ctx: C, timer: TimerFired) -> Step | None:
        recorded = ctx.deadline(timer.name)
        if recorded is None or recorded.at != timer.due_at:
            return None  # a deadline since replaced: the timer that fired is stale
        for rule in self.timer_rules:
            step = rule(ctx, timer)
            if step is not None:
                return step
        return None
