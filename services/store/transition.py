"""Writing one applied transition: workflow row, history row, new timers and outbox events.

It is one statement (data-modifying CTEs), so a transition costs one round trip to the server
however many events and timers it has; foreign keys are checked at the end of the statement,
so a new workflow and its first timers can be inserted together.

The history row's hash is gathered here, from the very values written (``services.store.chain``,
hash version 2): the data is serialised once, for the column and for its digest.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any
from uuid import UUID

import asyncpg

from services.store.canonical import dump_json
from services.store.chain import HASH_VERSION, chain_hash, digest, row_content_v2

_NEW_WORKFLOW = """
INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, state, data,
                       version, final, head_hash, created_at, updated_at)
VALUES ($1, $2, $3, $30, $31::text::jsonb, $7, $8::text::jsonb, $9, $10, $14, $11, $11)
"""
_NEXT_VERSION = """
UPDATE workflows SET state = $7, data = $8::text::jsonb, version = $9, final = $10,
                     head_hash = $14, updated_at = $11
WHERE workflow_id = $1
"""
_REST = """
, h AS (
  INSERT INTO history (workflow_id, seq, company_id, message_id, message, state_from, state_to,
                       events, applied_at, prev_hash, hash, hash_version, final, data_digest,
                       terms_digest)
  VALUES ($1, $9, $2, $4, $5::text::jsonb, $6, $7, $12::text::jsonb, $11, $13, $14, $27, $10,
          $28, $29)
), t AS (
  INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, party,
                      action, clause, derivation, deadline)
  SELECT t.timer_id, $1, $2, $3, t.name, t.due_at, t.party, t.action, t.clause, t.derivation,
         t.deadline::jsonb
  FROM unnest($15::uuid[], $16::text[], $17::timestamptz[], $18::text[], $19::text[],
              $20::text[], $21::text[], $22::text[])
       AS t(timer_id, name, due_at, party, action, clause, derivation, deadline)
)
"""
_OUTBOX = """
  INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body)
  SELECT $2, $1, $23, o.routing_key, o.message_id, o.body::jsonb
  FROM unnest($24::text[], $25::text[], $26::text[]) AS o(routing_key, message_id, body)
"""
_CREATE = f"WITH w AS ({_NEW_WORKFLOW}){_REST}{_OUTBOX}"
_ADVANCE = f"WITH w AS ({_NEXT_VERSION}){_REST}{_OUTBOX}"


@dataclass(frozen=True)
class Outgoing:
    """Events for the outbox, on one exchange: (routing key, event id, body) each."""

    exchange: str
    rows: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)

    def args(self) -> list[Any]:
        return [
            self.exchange,
            [r[0] for r in self.rows],
            [r[1] for r in self.rows],
            [dump_json(r[2]) for r in self.rows],
        ]


@dataclass(frozen=True)
class Transition:
    workflow_id: UUID
    company_id: str
    workflow_type: str
    message_id: str
    message: Any
    state_from: str | None
    state_to: str
    data: Any
    version: int
    final: bool
    applied_at: datetime
    events: list[dict[str, Any]]
    prev_hash: str
    timers: list[dict[str, Any]]
    outgoing: Outgoing
    # When it starts: (terms id, canonical JSON of the terms), the text the catalog wrote once.
    pinned_terms: tuple[str, str] | None = None

    @cached_property
    def data_json(self) -> str:
        return dump_json(self.data)

    @cached_property
    def data_digest(self) -> str:
        return digest(self.data_json)

    @cached_property
    def terms_digest(self) -> str | None:
        return digest(self.pinned_terms[1]) if self.pinned_terms else None

    @cached_property
    def hash(self) -> str:
        """The history row's hash (version 2): chained from the workflow's previous head."""
        content = row_content_v2(
            company_id=self.company_id, workflow_id=self.workflow_id,
            workflow_type=self.workflow_type, seq=self.version, message_id=self.message_id,
            message=self.message, state_from=self.state_from, state_to=self.state_to,
            final=self.final, data_digest=self.data_digest,
            terms_digest=self.terms_digest, events=self.events, applied_at=self.applied_at,
        )  # fmt: skip
        return chain_hash(self.prev_hash, content)


_TIMER_COLUMNS = (
    "timer_id", "name", "due_at", "party", "action", "clause", "derivation", "deadline"
)  # fmt: skip


async def write_transition(connection: asyncpg.Connection, t: Transition) -> None:
    pinned = list(t.pinned_terms) if t.pinned_terms else []
    await connection.execute(
        _CREATE if t.pinned_terms else _ADVANCE,
        t.workflow_id, t.company_id, t.workflow_type, t.message_id, dump_json(t.message),
        t.state_from, t.state_to, t.data_json, t.version, t.final, t.applied_at,
        dump_json(t.events), t.prev_hash, t.hash,
        *([r[c] for r in t.timers] for c in _TIMER_COLUMNS),
        *t.outgoing.args(),
        HASH_VERSION, t.data_digest, t.terms_digest,
        *pinned,
    )  # fmt: skip


async def write_outbox(
    connection: asyncpg.Connection, company_id: str, workflow_id: UUID | None, out: Outgoing
) -> None:
    await connection.execute(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "SELECT $1, $2, $3, o.routing_key, o.message_id, o.body::jsonb "
        "FROM unnest($4::text[], $5::text[], $6::text[]) AS o(routing_key, message_id, body)",
        company_id,
        workflow_id,
        *out.args(),
    )
