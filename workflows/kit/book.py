"""One message against a workflow's timeline: record the act, replay, diff, decide.

A command becomes an act with its effective time. When it takes effect after every act
recorded and after every timer already fired, the replay would only add it at the end: it is
applied to the current state (the fast path, the common case). Otherwise every act is replayed
from the start in the canonical order, and what the replay contradicts is reconciled
(``workflows.kit.reconcile``). Either way the new act, refused in its place, is refused as any
command is (nothing changes). A timer message means time advanced: the timers pending and due by
then fire; one no longer pending is stale and changes nothing.

Only the new act's events, the events of timers fired for the first time and the voiding
events go out: events already emitted are not emitted again. Timers to set and cancel are the
difference between the deadlines pending before and after.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from workflows.kernel import (
    Command,
    Decision,
    Event,
    Message,
    Send,
    SendToEach,
    SetTimer,
    TimerFired,
)
from workflows.kit.chart import Chart
from workflows.kit.context import Checked
from workflows.kit.reconcile import close_item, reconcile
from workflows.kit.replay import Rule, Run, append, replay, timer_key
from workflows.kit.timeline import (
    DEFAULT_RANK,
    TIMELINE,
    Record,
    Timeline,
    command_act,
    sort_key,
    timer_act,
)
from workflows.terms import Terms

VERSION_KEY = "schema_version"


class _Kind(Protocol):
    @property
    def chart(self) -> Chart: ...
    @property
    def ranks(self) -> Mapping[str, int]: ...
    @property
    def void_clause(self) -> Callable[[Terms, str], str | None]: ...
    @property
    def reconcile_command(self) -> str: ...

    def context(self, state: str, data: dict[str, Any], terms: Terms, now: datetime) -> Any: ...
    def rule(
        self,
        terms: Terms,
        state: str,
        data: dict[str, Any],
        message: Message,
        now: datetime,
        checked: Checked | None = None,
    ) -> Decision: ...
    def check(self, ctx: Any, command: Command) -> tuple[str, Any]: ...
    def admit(self, ctx: Any, name: str, cmd: Any) -> None: ...
    def effective_at(self, ctx: Any, name: str, cmd: Any) -> datetime: ...


def _every(what: str, key: str) -> bool:
    return True


class Book:
    def __init__(
        self,
        kind: _Kind,
        terms: Terms,
        state: str,
        data: dict[str, Any],
        tl: Timeline,
        now: datetime,
    ) -> None:
        self.kind, self.terms, self.state, self.data = kind, terms, state, data
        self.tl, self.now = tl, now
        self.version = data.get(VERSION_KEY)

    def _rule(self, state: str, data: dict[str, Any], message: Message, now: datetime) -> Decision:
        return self.kind.rule(self.terms, state, data, message, now)

    # -- messages -----------------------------------------------------------------------
    def enter(self, command: Command) -> Decision:
        # Checks and readers only read: the rules run later, on copies, in the replay.
        ctx = self.kind.context(self.state, self.data, self.terms, self.now)
        name, cmd = self.kind.check(ctx, command)
        if name == self.kind.reconcile_command:
            return self._close(ctx, command)
        self.kind.admit(ctx, name, cmd)
        act = command_act(
            command,
            name,
            entered_at=self.now,
            effective_at=self.kind.effective_at(ctx, name, cmd),
            rank=self.kind.ranks.get(name, DEFAULT_RANK),
        )
        return self._record(act, Checked(name, cmd, ctx.notices_read))

    def advance(self, timer: TimerFired, *, state: str, data: Mapping[str, Any]) -> Decision:
        pending = self.tl.pending.get(timer.name)
        if pending is not None and pending.deadline.at == timer.due_at:
            horizon = max(self.tl.horizon or timer.due_at, timer.due_at)
            run = replay(self._rule, (self.state, self.data, self.tl.pending), [], horizon)
            self.tl.horizon = horizon
            self.tl.fired = [*self.tl.fired, *run.fired]
            return self._decision(
                run, [e for _, _, events in run.log for e in events], run.sent(_every)
            )
        if self._legacy_timer(timer):
            return self._record(timer_act(timer, entered_at=self.now))
        return Decision(state=state, data=dict(data))  # stale: nothing changes

    def _legacy_timer(self, timer: TimerFired) -> bool:
        """A timer of the stored row a timeline started from (the replay never set it)."""
        if self.tl.base is None:
            return False
        raw = (self.data.get("deadlines") or {}).get(timer.name)
        if not raw or datetime.fromisoformat(raw["at"]) != timer.due_at:
            return False
        due = timer.due_at.isoformat()
        return not any(a.get("timer") == timer.name and a["due_at"] == due for a in self.tl.acts)

    def _close(self, ctx: Any, command: Command) -> Decision:
        """Bookkeeping, not an act of the workflow: nothing is replayed or moved."""
        event = close_item(
            self.tl,
            str(command.payload["item"]),
            by=ctx.actor_record(),
            note=str(command.payload.get("note") or ""),
            now=self.now,
            clause=ctx.clause,
        )
        data = {**self.data, VERSION_KEY: self.version, TIMELINE: self.tl.dump()}
        final = bool(self.kind.chart.states[self.state].final)
        return Decision(state=self.state, data=data, events=(event,), final=final)

    # -- the record ---------------------------------------------------------------------
    def _record(self, act: Record, checked: Checked | None = None) -> Decision:
        tl = self.tl
        effective = datetime.fromisoformat(act["effective_at"])
        last = max((sort_key(a) for a in tl.acts), default=None)
        tl.add(act)
        fast = (last is None or last < sort_key(act)) and all(
            datetime.fromisoformat(f["due_at"]) < effective for f in tl.fired
        )
        if fast:
            rule = self._rule if checked is None else self._checked_rule(act, checked)
            run = append(rule, (self.state, self.data, tl.pending), act, effective, tl.horizon)
            self._refuse_if_refused(run, act)
            tl.fired = [*tl.fired, *run.fired]
            act["transition"] = run.outcomes[act["id"]]
            return self._decision(
                run, [e for _, _, events in run.log for e in events], run.sent(_every)
            )
        run = replay(self._rule, self._start(), tl.acts, tl.horizon)
        self._refuse_if_refused(run, act)
        fired_before = {timer_key(f["name"], f["due_at"]) for f in tl.fired if f.get("transition")}

        def new(what: str, key: str) -> bool:
            # The new act and timers fired for the first time; what was replayed went out before.
            return (what == "act" and key == act["id"]) or (
                what == "timer" and key not in fired_before
            )

        events = [e for what, key, evs in run.log if new(what, key) for e in evs]
        sent = run.sent(new)
        events += reconcile(tl, run, act, lambda c: self.kind.void_clause(self.terms, c), self.now)
        act["transition"] = run.outcomes[act["id"]]
        tl.fired = run.fired
        return self._decision(run, events, sent)

    def _checked_rule(self, act: Record, checked: Checked) -> Rule:
        """The rule, told what ``enter`` checked of ``act`` when the replay applies it to the
        state and data it was checked on (no timer moved the workflow before it)."""

        def rule(state: str, data: dict[str, Any], message: Message, now: datetime) -> Decision:
            same = state == self.state and data is self.data
            if same and isinstance(message, Command) and message.message_id == act["id"]:
                return self.kind.rule(self.terms, state, data, message, now, checked)
            return self._rule(state, data, message, now)

        return rule

    @staticmethod
    def _refuse_if_refused(run: Run, act: Record) -> None:
        if run.outcomes[act["id"]] is None:
            raise run.refusals[act["id"]]  # refused in its place: nothing changes

    def _start(self) -> tuple[str, dict[str, Any], dict[str, SetTimer]]:
        base = self.tl.base
        if base is None:
            return "new", {VERSION_KEY: self.version}, {}
        return base["state"], copy.deepcopy(base["data"]), {}

    def _decision(
        self, run: Run, events: list[Event], sent: tuple[Send | SendToEach, ...] = ()
    ) -> Decision:
        before, after = self.tl.pending, run.pending
        set_timers = tuple(t for n, t in sorted(after.items()) if before.get(n) != t)
        spent = _spent(before, run)
        uncancelled = set(after) | {t.name for t in spent}  # still pending, or passed
        cancels = {n for n in before if n not in uncancelled}
        if self.tl.base is not None:  # the stored row's own timers are not known by name
            cancels |= run.cancelled - uncancelled
        self.tl.pending = dict(after)
        data = dict(run.data)
        data[VERSION_KEY] = self.version
        data[TIMELINE] = self.tl.dump()
        final = bool(self.kind.chart.states[run.state].final)
        return Decision(
            state=run.state,
            data=data,
            events=tuple(events),
            set_timers=() if final else set_timers,
            cancel_timers=tuple(sorted(cancels)),
            final=final,
            send=sent,
            spent_timers=spent,
        )


def _spent(before: Mapping[str, SetTimer], run: Run) -> tuple[TimerFired, ...]:
    """The deadlines pending before the message that the run fired at their due times."""
    fired = {key for what, key, _ in run.log if what == "timer"}
    return tuple(
        TimerFired(name, t.deadline.at)
        for name, t in sorted(before.items())
        if timer_key(name, t.deadline.at_text) in fired
    )
