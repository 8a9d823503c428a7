"""Timers as rows: every legal deadline a decision sets or cancels, and the events that say so.

Pure: planned from the timers read at load (``services.store.unit_load``), written by the store.

Setting a timer by name replaces the pending one of that name; so does cancelling it. Both also
reach a timer that has fired but whose message the engine has not applied yet (it is in flight
from the deadlines service): once replaced, that message must find its timer cancelled and be
stale. A workflow that reaches a final state keeps no deadline.

A deadline can also pass without its own message: when a later timer's message, or an act
effective after it, replays the workflow past it, the decision names it spent
(``Decision.spent_timers``). Its row is marked ``spent`` with a ``deadline_passed`` event, never
cancelled (its time ran out and took effect); its own message, if it comes, is stale.

A timer message, whatever comes of it (applied, refused, stale, a duplicate), marks its timer
``applied`` in the transaction that records it: until then the deadlines service keeps
re-firing it, so a lost timer message can never leave a legal deadline without effect.

On RabbitMQ only the services' users can send a timer message (topic permissions; the engine
consumer refuses any other sender: ``services.integrations``). Whoever sent it, the engine takes
one only for a timer the deadlines service has fired: its row (same id, workflow, company, type
and name) is ``fired`` (or ``applied``, a redelivery), due by the engine's clock, and due at the
instant the message says. Any other timer message is ignored: nothing is recorded, so it can
neither fire a deadline early nor use up the id of the genuine message. Timer ids are random
(uuid4), so no one can name a timer before its ``deadline_set`` event is published.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from services.store.canonical import canonical_json
from services.store.unit_write import TimerRow
from workflows.kernel import SetTimer, TimerFired
from workflows.messages import TimerMessage


@dataclass(slots=True)
class Timer:
    """A timer as the batch sees it: read at load, or set by an earlier message of the batch
    (then ``row`` is the row to insert, whose status follows this one's)."""

    timer_id: UUID
    workflow_id: UUID
    company_id: str
    workflow_type: str
    name: str
    due_at: datetime
    party: str
    action: str
    clause: str
    derivation: str
    deadline: Any
    status: str
    row: TimerRow | None = None

    @classmethod
    def loaded(cls, r: Any) -> Timer:
        return cls(**{k: r[k] for k in _LOADED})

    def payload(self) -> dict[str, Any]:
        """What ``deadline_set``, ``deadline_cancelled`` and ``deadline_passed`` say of it."""
        deadline = self.deadline
        if isinstance(deadline, str):
            deadline = json.loads(deadline)
        return {
            "timer": self.name,
            "timer_id": str(self.timer_id),
            "party": str(self.party),
            "action": self.action,
            # The due time as the deadline states it, in the company's zone (not UTC).
            "due_at": str(deadline.get("at") or self.due_at.isoformat()),
            "clause": self.clause,
            "derivation": self.derivation,
        }

    def move(self, status: str) -> None:
        self.status = status
        if self.row is not None:
            self.row.status = status


_LOADED = (
    "timer_id", "workflow_id", "company_id", "workflow_type", "name", "due_at", "party",
    "action", "clause", "derivation", "deadline", "status",
)  # fmt: skip


@dataclass(frozen=True)
class TimerCheck:
    """What the engine may do with a timer message: ``apply`` it, or its timer has ``ended``
    (cancelled or spent: stale, recorded), or ``ignore`` it (stale, nothing recorded) for
    ``reason``."""

    verdict: Literal["apply", "ended", "ignore"]
    reason: str = ""


def timer_id_of(message: TimerMessage) -> UUID | None:
    try:
        return UUID(message.message_id)
    except ValueError:
        return None


def check_timer(message: TimerMessage, timer: Timer | None, now: datetime) -> TimerCheck:
    """Is this the message the deadlines service sent for a timer now due?

    ``timer`` is the row of the id the message carries, read (and locked) at load.
    """
    tid = timer_id_of(message)
    if tid is None:
        return TimerCheck("ignore", f"message id {message.message_id!r} names no timer")
    if timer is None or (
        (timer.workflow_id, timer.company_id, timer.workflow_type, timer.name)
        != (message.workflow_id, message.company_id, message.workflow_type, message.timer)
    ):
        return TimerCheck("ignore", f"no timer {tid} named {message.timer} in this workflow")
    if timer.status in ("cancelled", "spent"):
        return TimerCheck("ended")
    if timer.status not in ("fired", "applied"):
        return TimerCheck("ignore", f"timer {tid} has not fired (it is {timer.status})")
    if timer.due_at > now:
        return TimerCheck("ignore", f"timer {tid} is due at {timer.due_at.isoformat()}, not yet")
    if message.due_at != timer.due_at:  # datetimes with offsets compare as instants
        return TimerCheck(
            "ignore",
            f"timer {tid} is due at {timer.due_at.isoformat()}; "
            f"the message says {message.due_at.isoformat()}",
        )
    return TimerCheck("apply")


def to_spend(timers: Iterable[Timer], spent: Iterable[TimerFired]) -> list[Timer]:
    """The timers, pending or fired and in flight, whose deadlines the decision says passed
    in its run: each matched by its name and due time."""
    passed = {(t.name, t.due_at) for t in spent}  # aware datetimes: equal instants, equal keys
    return sorted(
        (t for t in timers if t.status in ("pending", "fired") and (t.name, t.due_at) in passed),
        key=lambda t: (t.name, t.timer_id),
    )


def to_cancel(timers: Iterable[Timer], names: Iterable[str], *, final: bool) -> list[Timer]:
    """The named timers (all of them when final), pending or fired and in flight."""
    wanted = set(names)
    return sorted(
        (t for t in timers if t.status in ("pending", "fired") and (final or t.name in wanted)),
        key=lambda t: (t.name, t.timer_id),
    )


def plan_timers(
    set_timers: Iterable[SetTimer], *, workflow_id: UUID, company_id: str, workflow_type: str
) -> list[Timer]:
    """The new timers, each with the row to insert; nothing is written yet."""
    new = {t.name: t for t in set_timers}  # a name set twice in one decision: the last wins
    planned = []
    for t in (new[name] for name in sorted(new)):
        deadline = t.deadline.as_dict()
        row = TimerRow(
            # Random, planned anew on every attempt of the transaction: unguessable until
            # the deadline_set event names it.
            timer_id=uuid.uuid4(),
            workflow_id=workflow_id,
            company_id=company_id,
            workflow_type=workflow_type,
            name=t.name,
            due_at=t.deadline.at,
            party=str(t.party),
            action=t.action,
            clause=t.deadline.clause,
            derivation=t.deadline.derivation,
            deadline_json=canonical_json(deadline),
            status="pending",
        )
        timer = Timer(
            row.timer_id, workflow_id, company_id, workflow_type, row.name, row.due_at,
            row.party, row.action, row.clause, row.derivation, deadline, "pending", row,
        )  # fmt: skip
        planned.append(timer)
    return planned
