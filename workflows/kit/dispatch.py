"""One message in, one decision out, for any kind: resolve, authorise, check, rule, chart, entry.

A kind supplies its command table, chart, timer rules and how to build its context; this module
is the ``decide`` of the kernel contract for all of them.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from statemachine import State

from workflows.kernel import Command, Decision, Message, Party, Refused, TimerFired
from workflows.kit.book import Book
from workflows.kit.chart import Chart
from workflows.kit.commands import CommandTable
from workflows.kit.context import Checked, Context
from workflows.kit.data import VERSION_KEY, DataSchema, copy_data
from workflows.kit.effective import EffectiveTime
from workflows.kit.parties import authorise
from workflows.kit.payload import Payload, read
from workflows.kit.step import Step
from workflows.kit.timeline import TIMELINE, Timeline
from workflows.terms import Cited, Terms, as_terms
from workflows.terms.sections import register_section

C = TypeVar("C", bound=Context)
DATA_RULE = "equityflow stored data"
TimerRule = Callable[[Any, TimerFired], Step | None]

# A payload shape no rule anticipated: refused (the data was copied, so nothing changed)
# rather than crash the consumer.
_UNANTICIPATED = (LookupError, TypeError, ValueError, AttributeError, ArithmeticError)


def _no_void_clause(terms: Terms, command: str) -> str | None:
    return None


@dataclass(frozen=True)
class Kind(Generic[C]):
    context: Callable[[str, dict[str, Any], Terms, datetime], C]
    commands: CommandTable[C, Step]
    chart: Chart
    timer_rules: Sequence[TimerRule]
    parties: Callable[[C], Mapping[str, Cited[list[Party]]]]
    data: DataSchema
    #: The schema of the kind's section of a terms document (under the kind's name).
    terms_section: type[BaseModel]
    #: command → how its effective time is read; a command not named takes effect when entered.
    effective: Mapping[str, EffectiveTime] = field(default_factory=dict)
    #: command → its place among acts taking effect at the same instant (lower first).
    ranks: Mapping[str, int] = field(default_factory=dict)
    #: (terms, command) → the clause voiding such an act when a timely one contradicts it.
    void_clause: Callable[[Terms, str], str | None] = _no_void_clause
    #: The kind's command for the company to mark a reconciliation item reconciled (its payload
    #: is ``workflows.kit.reconcile.ReconcileItem``); handled by the kit, never replayed.
    reconcile_command: str = ""
    #: Commands only other workflows send (by the system party, through the engine): the
    #: terms' parties table does not list them, and no party outside may send them.
    internal: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        register_section(self.commands.kind, self.terms_section)

    def decide(
        self,
        state: str | None,
        data: Mapping[str, Any],
        message: Message,
        now: datetime,
        terms: Terms | Mapping[str, Any],
    ) -> Decision:
        """The workflow after ``message``: the replay of its acts in the order they took effect
        (``workflows.kit.timeline``), the message's act among them."""
        current, parsed = state or "new", as_terms(terms)
        raw = dict(data)
        # The record of acts is read apart: the kit alone writes it, and copying it whole for
        # every message would cost more than the rule itself.
        tl = Timeline.read(raw.pop(TIMELINE, None))
        # Not copied: nothing below changes it in place (each rule works on its own deep copy).
        loaded = self.data.load(raw, rule=DATA_RULE)
        if tl.base is None and not tl.acts and current != "new":
            # A row written before the timeline: its acts so far are not known one by one, so
            # the replay starts from it as stored (they are not reordered).
            tl.base = {"state": current, "data": copy.deepcopy(loaded)}
        book = Book(self, parsed, current, loaded, tl, now)
        if isinstance(message, TimerFired):
            return book.advance(message, state=current, data=data)
        return book.enter(message)

    def rule(
        self,
        terms: Terms,
        state: str,
        data: dict[str, Any],
        message: Message,
        now: datetime,
        checked: Checked | None = None,
    ) -> Decision:
        """One message on one state, as the rules and the chart decide it (no timeline): the
        rule records what happened, the chart's guards pick the move, the entry effects run.

        ``checked``: what ``check`` (and the reading of its effective time) made of this command
        on this very state and data, so that a command entered and applied at once is not
        checked, nor its notice read, twice."""
        ctx = self.context(state, copy_data(data), terms, now)
        ctx.chart = self.chart
        if isinstance(message, TimerFired):
            step = self._on_timer(ctx, message)
            if step is None:  # nothing left for this timer to do in this state
                return Decision(state=state, data=data)
            to = self._enter(ctx, step, f"act on {message.name}")
        else:
            step, to = self._on_command(ctx, message, checked)
        ctx.data[VERSION_KEY] = self.data.current  # a rule may have started the data afresh
        return Decision(
            state=to.id,
            data=ctx.data,
            events=tuple(step.events),
            set_timers=tuple(step.set_timers),
            cancel_timers=tuple(dict.fromkeys(step.cancel_timers)),
            final=bool(to.final),
            transition=step.transition,
            send=tuple(step.send),
        )

    def check(self, ctx: C, command: Command) -> tuple[str, Payload]:
        """Before any replay: the command's name, its sender allowed, and its payload read
        into the command's model (a malformed one refused)."""
        name = self.commands.resolve(command.name)
        ctx.chart = self.chart
        ctx.command, ctx.actor, ctx.act_id = name, command.actor, command.message_id
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
        return name, read(self.commands.specs[name].payload, command.payload, command.name)

    def admit(self, ctx: C, name: str, cmd: Payload) -> None:
        """The command's own check on entry (``Spec.admit``), never made on a replay."""
        check = self.commands.specs[name].admit
        if check is not None:
            check(ctx, cmd)

    def effective_at(self, ctx: C, name: str, cmd: Payload) -> datetime:
        """When the act took effect, as the kind reads it from the typed command; when entered
        if it cannot be read (the rule then refuses the act with its own reason)."""
        reader = self.effective.get(name)
        if reader is None:
            return ctx.now
        try:
            return reader(ctx, cmd)
        except (Refused, *_UNANTICIPATED):
            return ctx.now

    def _on_command(
        self, ctx: C, command: Command, checked: Checked | None = None
    ) -> tuple[Step, State]:
        if checked is None:
            name, cmd = self.check(ctx, command)
        else:
            name, cmd, ctx.notices_read = checked
            ctx.chart = self.chart
            ctx.command, ctx.actor, ctx.act_id = name, command.actor, command.message_id
        spec = self.commands.specs[name]
        try:
            step = spec.rule(ctx, cmd)
            return step, self._enter(ctx, step, name.replace("_", " "))
        except _UNANTICIPATED as e:
            raise Refused(ctx.clause, f"malformed {name} payload: {e!r}", "malformed") from e

    def _enter(self, ctx: C, step: Step, action: str) -> State:
        """The state the step's event leads to by the chart's guards, read on the data as the
        rule left it; entering it runs its entry effects."""
        move = self.chart.take(ctx.state, step.transition, ctx, rule=ctx.clause, action=action)
        for effect in self.chart.effects(move):
            effect(ctx, step)
        assert move.target is not None
        return move.target

    def _on_timer(self, ctx: C, timer: TimerFired) -> Step | None:
        recorded = ctx.deadline(timer.name)
        if recorded is None or recorded.at != timer.due_at:
            return None  # a deadline since replaced: the timer that fired is stale
        for rule in self.timer_rules:
            step = rule(ctx, timer)
            if step is not None:
                return step
        return None
