"""Deadlines against their history: every timer row must be one its workflow's history set.

The ``timers`` table moves forward (pending → fired → applied) and so cannot be append-only,
but what a deadline *is* — who must act, by when, under which clause — is fixed by the
``deadline_set`` event that created it; its cancellation by a ``deadline_cancelled`` event, and
its passing in another message's run (``spent``) by a ``deadline_passed`` event, all inside the
hash chain. A timer whose due time, party, action or clause differs from its event, a timer no
history set, one whose history set it but the row is gone, and a cancelled or spent timer
brought back (or one cancelled or spent with no event) are each reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.store.db import Connection

_TIMERS = """
SELECT timer_id, workflow_id, name, due_at, party, action, clause, status FROM timers
WHERE ($1::text IS NULL OR company_id = $1) AND ($2::uuid IS NULL OR workflow_id = $2)
ORDER BY workflow_id, timer_id
"""


@dataclass
class DeadlineLedger:
    """The deadlines the chain set and cancelled, as the walk meets their events."""

    was_set: dict[str, tuple[UUID, dict[str, Any]]] = field(default_factory=dict)
    #: timer id → the status its history ended it with: 'cancelled' or 'spent'.
    ended: dict[str, str] = field(default_factory=dict)

    def add_events(self, workflow_id: UUID, events: Any) -> None:
        for event in events if isinstance(events, list) else []:
            payload = event.get("payload") if isinstance(event, dict) else None
            if not isinstance(payload, dict) or "timer_id" not in payload:
                continue
            if event.get("type") == "deadline_set":
                self.was_set[str(payload["timer_id"])] = (workflow_id, payload)
            elif event.get("type") in _ENDED:
                self.ended[str(payload["timer_id"])] = _ENDED[event["type"]]


_ENDED = {"deadline_cancelled": "cancelled", "deadline_passed": "spent"}
#: An ended status → what its event did to the deadline.
_ENDED_BY = {"cancelled": "cancelled", "spent": "passed"}


_FIELDS = (("name", "timer"), ("party", "party"), ("action", "action"), ("clause", "clause"))


def _differences(row: asyncpg.Record, workflow_id: UUID, payload: dict[str, Any]) -> list[str]:
    differ = [
        f"{column} {row[column]!s} (history: {payload.get(key)})"
        for column, key in _FIELDS
        if str(row[column]) != str(payload.get(key))
    ]
    if row["workflow_id"] != workflow_id:
        differ.append(f"workflow {row['workflow_id']} (history: {workflow_id})")
    try:
        due = datetime.fromisoformat(str(payload.get("due_at")))
    except ValueError:
        due = None
    if due is None or due != row["due_at"]:
        differ.append(f"due_at {row['due_at'].isoformat()} (history: {payload.get('due_at')})")
    return differ


async def check_timers(
    connection: Connection,
    ledger: DeadlineLedger,
    company_id: str | None,
    workflow_id: UUID | None,
) -> list[tuple[UUID, str]]:
    """(workflow id, finding) for every timer row that its history does not account for."""
    findings: list[tuple[UUID, str]] = []
    seen: set[str] = set()
    async for row in connection.cursor(_TIMERS, company_id, workflow_id, prefetch=1000):
        tid = str(row["timer_id"])
        seen.add(tid)
        entry = ledger.was_set.get(tid)
        if entry is None:
            findings.append((row["workflow_id"], f"timer {tid} ({row['name']}) was never set by "
                             "its workflow's history (inserted)"))  # fmt: skip
            continue
        differ = _differences(row, *entry)
        if differ:
            findings.append((row["workflow_id"], f"timer {tid} edited: {'; '.join(differ)}"))
        ended, status, name = ledger.ended.get(tid), row["status"], row["name"]
        if ended is not None and status != ended:
            findings.append((row["workflow_id"], f"timer {tid} ({name}) was {ended} by its "
                             f"history but is {status} (revived)"))  # fmt: skip
        elif status in _ENDED_BY and ended is None:
            by = _ENDED_BY[status]
            findings.append((row["workflow_id"], f"timer {tid} ({name}) is {status} but no "
                             f"history row {by} it (deadline suppressed)"))  # fmt: skip
    for tid in sorted(set(ledger.was_set) - seen):
        wid = ledger.was_set[tid][0]
        findings.append((wid, f"timer {tid} set by the history is missing (deleted)"))
    return findings
