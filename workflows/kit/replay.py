"""Replaying a workflow's acts in the order they took effect, firing the timers they set.

The outcome of a workflow is a function of its acts and their effective times: the acts are
applied from the start in a canonical order (``timeline.sort_key``) through the kind's rule for
one message, and every timer the replay sets fires in its place, before the first act effective
after its due time. Timers due by the horizon (the latest timer message received) fire last.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.kernel import (
    Decision,
    Event,
    Message,
    Refused,
    Send,
    SendToEach,
    SetTimer,
    TimerFired,
)
from workflows.kit.timeline import Record, message, sort_key

#: The kind's rule for one message on a state and data (no timeline), at ``now``.
Rule = Callable[[str, dict[str, Any], Message, datetime], Decision]


@dataclass
class Run:
    """The state of a replay, and what each act and timer came to in it."""

    state: str
    data: dict[str, Any]
    pending: dict[str, SetTimer]
    final: bool = False
    #: act id → the transition it took ("" for an act that moved nothing), or None if refused.
    outcomes: dict[str, str | None] = field(default_factory=dict)
    refusals: dict[str, Refused] = field(default_factory=dict)
    fired: list[Record] = field(default_factory=list)
    #: In replay order: ("act", id, events) and ("timer", "name@due", events).
    log: list[tuple[str, str, tuple[Event, ...]]] = field(default_factory=list)
    #: Timers cancelled by the steps of the replay (names), for rows whose timers are unknown.
    cancelled: set[str] = field(default_factory=set)
    #: ("act", id) or ("timer", "name@due") → the commands its step sent other workflows.
    sends: dict[tuple[str, str], tuple[Send | SendToEach, ...]] = field(default_factory=dict)

    def sent(self, keep: Callable[[str, str], bool]) -> tuple[Send | SendToEach, ...]:
        """The commands sent by the steps ``keep`` selects, in replay order."""
        return tuple(
            s
            for what, key, _ in self.log
            if keep(what, key)
            for s in self.sends.get((what, key), ())
        )

    def _take(self, d: Decision) -> None:
        self.state, self.data, self.final = d.state, dict(d.data), d.final
        for name in d.cancel_timers:
            self.pending.pop(name, None)
        self.cancelled.update(d.cancel_timers)
        for t in d.set_timers:
            self.pending[t.name] = t
        if d.final:
            self.pending.clear()

    def fire_until(self, rule: Rule, until: datetime, *, inclusive: bool) -> None:
        """Fire, earliest first, every pending timer due before ``until`` (or at it)."""
        while self.pending:
            t = min(self.pending.values(), key=lambda t: (t.deadline.at, t.name))
            due = t.deadline.at
            if due > until or (due == until and not inclusive):
                return
            due_text = t.deadline.at_text
            del self.pending[t.name]
            try:
                d = rule(self.state, self.data, TimerFired(t.name, due), due)
            except Refused:
                d = None
            moved = d is not None and bool(d.transition)
            if d is not None and moved:
                self._take(d)
            self.fired.append(
                {
                    "name": t.name,
                    "due_at": due_text,
                    "clause": t.deadline.clause,
                    "transition": d.transition if d is not None and moved else None,
                }
            )
            key = timer_key(t.name, due_text)
            self.log.append(("timer", key, d.events if d else ()))
            if d is not None and moved and d.send:
                self.sends[("timer", key)] = d.send

    def apply(self, rule: Rule, act: Record) -> None:
        now = datetime.fromisoformat(act["entered_at"])
        msg = message(act)
        if isinstance(msg, TimerFired):
            now = max(now, msg.due_at)
        try:
            d = rule(self.state, self.data, msg, now)
        except Refused as refused:
            self.outcomes[act["id"]] = None
            self.refusals[act["id"]] = refused
            return
        self._take(d)
        self.outcomes[act["id"]] = d.transition
        self.log.append(("act", act["id"], d.events))
        if d.send:
            self.sends[("act", act["id"])] = d.send


def timer_key(name: str, due_text: str) -> str:
    """How the run's log names a timer it fired: ``name@due`` (the due time as set)."""
    return f"{name}@{due_text}"


def replay(
    rule: Rule,
    start: tuple[str, dict[str, Any], dict[str, SetTimer]],
    acts: Iterable[Record],
    horizon: datetime | None,
) -> Run:
    """Apply ``acts`` from ``start`` in their canonical order, then fire what is due by
    ``horizon``."""
    state, data, pending = start
    run = Run(state, data, dict(pending))
    for act in sorted(acts, key=sort_key):
        run.fire_until(rule, datetime.fromisoformat(act["effective_at"]), inclusive=False)
        run.apply(rule, act)
    if horizon is not None:
        run.fire_until(rule, horizon, inclusive=True)
    return run


def append(
    rule: Rule,
    start: tuple[str, dict[str, Any], dict[str, SetTimer]],
    act: Record,
    effective: datetime,
    horizon: datetime | None,
) -> Run:
    """``replay`` of ``act`` alone from ``start``, for an act taking effect after every act
    recorded (``effective``: its effective time, as read from it): the timers due before it
    fire, it applies, then what is due by ``horizon`` fires."""
    state, data, pending = start
    run = Run(state, data, dict(pending))
    run.fire_until(rule, effective, inclusive=False)
    run.apply(rule, act)
    if horizon is not None:
        run.fire_until(rule, horizon, inclusive=True)
    return run
