"""Events written to the outbox outside the engine's batches (a signed checkpoint, say)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from services.store.canonical import dump_json
from services.store.db import Connection


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


async def write_outbox(
    connection: Connection, company_id: str, workflow_id: UUID | None, out: Outgoing
) -> None:
    await connection.execute(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "SELECT $1, $2, $3, o.routing_key, o.message_id, o.body::json "
        "FROM unnest($4::text[], $5::text[], $6::text[]) AS o(routing_key, message_id, body)",
        company_id,
        workflow_id,
        *out.args(),
    )
