"""Timers as rows: every legal deadline a decision sets or cancels, and the events that say so.

Setting a timer by name replaces the pending one of that name; so does cancelling it. Both also
reach a timer that has fired but whose message the engine has not applied yet (it is in flight
from the deadlines service): once replaced, that message must find its timer cancelled and be
stale. A workflow that reaches a final state keeps no deadline.

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

import asyncpg

from services.engine_events import EventLog
from services.store.canonical import canonical_json
from workflows.kernel import SetTimer
from workflows.messages import TimerMessage

# 'fired' is fired and not applied: the timer being applied was marked applied before this.
_CANCEL = """
UPDATE timers t SET status = 'cancelled'
WHERE t.workflow_id = $1 AND (t.name = ANY($2::text[]) OR $3)
  AND t.status IN ('pending', 'fired')
RETURNING t.timer_id, t.name, t.party, t.action, t.due_at, t.clause, t.derivation, t.deadline
"""
_MARK_APPLIED = """
UPDATE timers SET status = 'applied', applied_at = $4
WHERE timer_id = $1 AND workflow_id = $2 AND company_id = $3 AND status = 'fired'
"""


async def mark_timer_applied(
    connection: asyncpg.Connection, message: TimerMessage, now: datetime
) -> None:
    """The engine has recorded this timer's message: the deadlines service stops re-firing it.

    Called under the workflow's row lock (the lock order every engine transaction keeps:
    workflow, then its timers), or for a duplicate, which takes no other lock. Only a fired
    timer is marked: a pending one has not been sent (its message was not the deadlines
    service's), and a cancelled one stays cancelled.
    """
    try:
        tid = UUID(message.message_id)
    except ValueError:
        return
    await connection.execute(
        _MARK_APPLIED, tid, message.workflow_id, message.company_id, now
    )  # fmt: skip


# FOR UPDATE: the deadlines service publishes a timer's message before it commits the timer
# as fired, holding this row lock; the engine waits for that commit instead of finding the
# timer still pending.
_FIRED_TIMER = """
SELECT status, due_at FROM timers
WHERE timer_id = $1 AND workflow_id = $2 AND company_id = $3 AND workflow_type = $4 AND name = $5
FOR UPDATE
"""


@dataclass(frozen=True)
class TimerCheck:
    """What the engine may do with a timer message: ``apply`` it, or it is ``cancelled``
    (stale, recorded), or ``ignore`` it (stale, nothing recorded) for ``reason``."""

    verdict: Literal["apply", "cancelled", "ignore"]
    reason: str = ""


async def check_timer(
    connection: asyncpg.Connection, message: TimerMessage, now: datetime
) -> TimerCheck:
    """Is this the message the deadlines service sent for a timer now due? Takes its row lock."""
    try:
        tid = UUID(message.message_id)
    except ValueError:
        return TimerCheck("ignore", f"message id {message.message_id!r} names no timer")
    row = await connection.fetchrow(
        _FIRED_TIMER, tid, message.workflow_id, message.company_id, message.workflow_type,
        message.timer,
    )  # fmt: skip
    if row is None:
        return TimerCheck("ignore", f"no timer {tid} named {message.timer} in this workflow")
    status, due_at = row["status"], row["due_at"]
    if status == "cancelled":
        return TimerCheck("cancelled")
    if status not in ("fired", "applied"):
        return TimerCheck("ignore", f"timer {tid} has not fired (it is {status})")
    if due_at > now:
        return TimerCheck("ignore", f"timer {tid} is due at {due_at.isoformat()}, not yet")
    if message.due_at != due_at:  # datetimes with offsets compare as instants
        return TimerCheck(
            "ignore",
            f"timer {tid} is due at {due_at.isoformat()}; "
            f"the message says {message.due_at.isoformat()}",
        )
    return TimerCheck("apply")


def _local_due_at(timer: Any) -> str:
    """The due time as the deadline states it, in the company's zone (not the column's UTC)."""
    deadline = timer["deadline"]
    if isinstance(deadline, str):
        deadline = json.loads(deadline)
    return str(deadline.get("at") or timer["due_at"].isoformat())


def _deadline_payload(timer: Any) -> dict[str, Any]:
    return {
        "timer": timer["name"],
        "timer_id": str(timer["timer_id"]),
        "party": str(timer["party"]),
        "action": timer["action"],
        "due_at": _local_due_at(timer),
        "clause": timer["clause"],
        "derivation": timer["derivation"],
    }


async def cancel_timers(
    connection: asyncpg.Connection,
    log: EventLog,
    *,
    version: int,
    names: Iterable[str],
    final: bool,
) -> None:
    """Cancel the named timers (all of them when final), pending or fired and in flight."""
    names = sorted(set(names))
    if not names and not final:
        return
    cancelled = await connection.fetch(_CANCEL, log.workflow_id, names, final)
    for row in sorted(cancelled, key=lambda r: (r["name"], r["timer_id"])):
        log.add("deadline_cancelled", _deadline_payload(row), version)


def plan_timers(
    log: EventLog, set_timers: Iterable[SetTimer], *, version: int
) -> list[dict[str, Any]]:
    """The rows of the new timers, and their ``deadline_set`` events; nothing is written yet."""
    new = {t.name: t for t in set_timers}  # a name set twice in one decision: the last wins
    rows = [
        {
            # Random, planned anew on every attempt of the transaction: unguessable until
            # the deadline_set event names it.
            "timer_id": uuid.uuid4(),
            "name": t.name,
            "due_at": t.deadline.at,
            "party": str(t.party),
            "action": t.action,
            "clause": t.deadline.clause,
            "derivation": t.deadline.derivation,
            "deadline": canonical_json(t.deadline.as_dict()),
        }
        for t in (new[name] for name in sorted(new))
    ]
    for r in rows:
        log.add("deadline_set", _deadline_payload(r), version)
    return rows
