"""The notice register: who must act, by when, under which clause — and each notice's effect.

Every deadline a workflow sets arrives as a ``deadline_set`` event; it is recorded as a notice
row (the party who must act, the action, the due time, the clause) and announced by an
``action_required`` event — through the outbox, in the same transaction, so the relay publishes
it exactly when the row exists (docs/rules.md §2; e.g. FMP §6(d)(iii): the Company's 30-day
election window runs from the Disposition Notice's effective time). A domain event that carries a
``notice`` (kind, from_party, to_party, method, effective_at, clause) records that notice with
its effective time, which the workflow computed from the delivery method.

Idempotent by event id: the notice row's key is the event id, and a redelivered event finds it
and emits nothing again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg
from pydantic import BaseModel, ConfigDict, ValidationError

from services.bus.poison import PoisonMessage, describe, parse_event_message
from services.bus.topology import EVENTS
from services.clock import Clock
from services.ids import derived_id
from services.store.canonical import canonical_json
from services.store.db import Connection
from workflows.messages import EventMessage, event_routing_key

DEADLINE_SET = "deadline_set"
ACTION_REQUIRED = "action_required"


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class DeadlineSet(_Loose):
    timer: str
    party: str
    action: str
    due_at: datetime
    clause: str
    derivation: str


class Notice(_Loose):
    kind: str
    from_party: str
    to_party: str
    method: str
    effective_at: datetime
    clause: str


_INSERT = """
INSERT INTO notices (notice_id, company_id, workflow_id, kind, party, action, due_at, clause,
                     effective_at, body, recorded_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (notice_id) DO NOTHING RETURNING true
"""


def _parse(model: type[_Loose], value: Any, where: str) -> Any:
    try:
        return model.model_validate(value)
    except ValidationError as e:
        raise PoisonMessage(f"{where}: {describe(e)}") from None


async def record_event(pool: asyncpg.Pool, clock: Clock, body: bytes) -> bool:
    """Record what ``body`` (an event) says about notices and deadlines; True if it was new.

    Raises ``PoisonMessage`` for a body that is not an event or a malformed deadline/notice.
    """
    event = parse_event_message(body)
    deadline: DeadlineSet | None = None
    notice: Notice | None = None
    if event.type == DEADLINE_SET:
        deadline = _parse(DeadlineSet, event.payload, "payload")
    elif isinstance(event.payload.get("notice"), dict):
        notice = _parse(Notice, event.payload["notice"], "payload.notice")
    else:
        return False  # nothing about notices or deadlines
    now = await clock.now()  # before taking a connection (the simulated clock needs one)
    async with pool.acquire() as connection, connection.transaction():
        if deadline is not None:
            return await _record_deadline(connection, event, deadline, now)
        assert notice is not None
        return await _record_notice(connection, event, notice, now)


async def _record_deadline(
    connection: Connection, event: EventMessage, d: DeadlineSet, now: datetime
) -> bool:
    new = await connection.fetchval(
        _INSERT, event.event_id, event.company_id, event.workflow_id, "deadline", d.party,
        d.action, d.due_at, d.clause, None, event.model_dump(mode="json"), now,
    )  # fmt: skip
    if not new:
        return False
    required = EventMessage(
        event_id=derived_id("notification", event.company_id, event.event_id, ACTION_REQUIRED),
        company_id=event.company_id,
        workflow_id=event.workflow_id,
        workflow_type=event.workflow_type,
        type=ACTION_REQUIRED,
        version=event.version,
        occurred_at=now,
        payload={
            "party": d.party,
            "action": d.action,
            "due_at": d.due_at.isoformat(),
            "clause": d.clause,
            "derivation": d.derivation,
            "timer": d.timer,
            "workflow": {
                "workflow_id": str(event.workflow_id),
                "workflow_type": event.workflow_type,
                "company_id": event.company_id,
            },
        },
        caused_by=event.event_id,
    )
    await connection.execute(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "VALUES ($1, $2, $3, $4, $5, $6::text::jsonb)",
        required.company_id,
        required.workflow_id,
        EVENTS,
        event_routing_key(required.company_id, required.workflow_type, ACTION_REQUIRED),
        required.event_id,
        canonical_json(required.model_dump(mode="json")),
    )
    return True


async def _record_notice(
    connection: Connection, event: EventMessage, n: Notice, now: datetime
) -> bool:
    new = await connection.fetchval(
        _INSERT, event.event_id, event.company_id, event.workflow_id, n.kind, n.to_party,
        "receive_notice", None, n.clause, n.effective_at, event.model_dump(mode="json"), now,
    )  # fmt: skip
    return bool(new)
