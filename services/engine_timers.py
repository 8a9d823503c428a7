"""Timers as rows: every legal deadline a decision sets or cancels, and the events that say so.

Setting a timer by name replaces the pending one of that name; so does cancelling it. Both also
reach a timer that has fired but whose message the engine has not applied yet (it is in flight
from the deadlines service): once replaced, that message must find its timer cancelled and be
stale. A workflow that reaches a final state keeps no deadline.

A timer message, whatever comes of it (applied, refused, stale, a duplicate), marks its timer
``applied`` in the transaction that records it: until then the deadlines service keeps
re-firing it, so a lost timer message can never leave a legal deadline without effect.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.engine_events import EventLog
from services.store.canonical import canonical_json
from workflows.kernel import SetTimer
from workflows.messages import TimerMessage

_TIMER_IDS = uuid.UUID("0b6f0a8e-2f5c-4c1e-bb0f-7d3c9e6a4f10")

# 'fired' is fired and not applied: the timer being applied was marked applied before this.
_CANCEL = """
UPDATE timers t SET status = 'cancelled'
WHERE t.workflow_id = $1 AND (t.name = ANY($2::text[]) OR $3)
  AND t.status IN ('pending', 'fired')
RETURNING t.timer_id, t.name, t.party, t.action, t.due_at, t.clause, t.derivation, t.deadline
"""
_MARK_APPLIED = """
UPDATE timers SET status = 'applied', applied_at = $4
WHERE timer_id = $1 AND workflow_id = $2 AND company_id = $3 AND status IN ('pending', 'fired')
"""


def timer_id(company_id: str, message_id: str, name: str) -> UUID:
    return uuid.uuid5(_TIMER_IDS, f"{company_id}\x1f{message_id}\x1f{name}")


async def mark_timer_applied(
    connection: asyncpg.Connection, message: TimerMessage, now: datetime
) -> None:
    """The engine has recorded this timer's message: the deadlines service stops re-firing it.

    Called under the workflow's row lock (the lock order every engine transaction keeps:
    workflow, then its timers), or for a duplicate, which takes no other lock. A timer still
    pending (its deadlines service crashed after publishing) is done too; a cancelled one
    stays cancelled.
    """
    try:
        tid = UUID(message.message_id)
    except ValueError:
        return
    await connection.execute(
        _MARK_APPLIED, tid, message.workflow_id, message.company_id, now
    )  # fmt: skip


async def timer_is_live(connection: asyncpg.Connection, message: TimerMessage) -> bool:
    """The timer this message fires belongs to its workflow and was not cancelled."""
    try:
        tid = UUID(message.message_id)
    except ValueError:
        return False
    status = await connection.fetchval(
        "SELECT status FROM timers WHERE timer_id = $1 AND workflow_id = $2 AND name = $3",
        tid,
        message.workflow_id,
        message.timer,
    )
    return status is not None and status != "cancelled"


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
            "timer_id": timer_id(log.company_id, log.message_id, t.name),
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
