"""What the engine answers: an ``Outcome``, also for a message id it has already recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

import asyncpg

from services.engine_events import event_id, legacy_event_id
from workflows.messages import CommandMessage, TimerMessage

Status = Literal["applied", "refused", "duplicate", "stale"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    workflow_id: UUID
    state: str | None
    version: int
    events: list[dict[str, Any]] = field(default_factory=list)
    refusal: dict[str, str] | None = None
    note: str | None = None  # why a timer message was ignored (for the log; never recorded)
    # False for a refusal of a command to a company that does not exist: answered, not kept.
    recorded: bool = True


async def recorded_outcome(
    connection: asyncpg.Connection, message: CommandMessage | TimerMessage
) -> Outcome:
    """The answer a message id got the first time, as ``duplicate``; nothing is written.

    Commands and timers are separate key spaces: a command and a timer message with one id
    are two messages, each with its own inbox row, history row and events.
    """
    company, kind = message.company_id, message.kind
    inbox = await connection.fetchrow(
        "SELECT outcome, refusal, workflow_id FROM inbox "
        "WHERE company_id = $1 AND kind = $2 AND message_id = $3",
        company,
        kind,
        message.message_id,
    )
    assert inbox is not None, "a conflicting inbox row is committed before we read it"
    workflow_id: UUID = inbox["workflow_id"]
    events: list[dict[str, Any]] = []
    version = None
    if inbox["outcome"] == "applied":
        applied = await connection.fetchrow(
            "SELECT h.seq, h.events FROM history h JOIN workflows w USING (workflow_id) "
            "WHERE h.workflow_id = $1 AND h.message_id = $2 AND w.company_id = $3 "
            "  AND h.message->>'kind' = $4",
            workflow_id,
            message.message_id,
            company,
            kind,
        )
        if applied is not None:
            version, events = applied["seq"], applied["events"]
    elif inbox["outcome"] == "refused":
        # A refusal recorded before ids were derived by ``services.ids`` has its old id;
        # the new one is tried first, and both only among this company's rows.
        body = await connection.fetchval(
            "SELECT body FROM outbox WHERE message_id = ANY($1::text[]) AND company_id = $2 "
            "ORDER BY message_id = $3 DESC LIMIT 1",
            [
                event_id(company, message.message_id, 0, kind),
                legacy_event_id(company, message.message_id, 0, kind),
            ],
            company,
            event_id(company, message.message_id, 0, kind),
        )
        if body is not None:
            version, events = body["version"], [body]
    state, version = await _state_at(connection, company, workflow_id, version)
    return Outcome("duplicate", workflow_id, state, version, events, inbox["refusal"])


async def _state_at(
    connection: asyncpg.Connection, company: str, workflow_id: UUID, version: int | None
) -> tuple[str | None, int]:
    """The workflow's state at ``version`` (its current one if None), if this company has it."""
    row = await connection.fetchrow(
        "SELECT w.version, COALESCE(h.state_to, w.state) AS state "
        "FROM workflows w LEFT JOIN history h "
        "  ON h.workflow_id = w.workflow_id AND h.seq = COALESCE($3, w.version) "
        "WHERE w.workflow_id = $1 AND w.company_id = $2",
        workflow_id,
        company,
        version,
    )
    if row is None or version == 0:
        return None, 0
    return row["state"], version if version is not None else row["version"]
