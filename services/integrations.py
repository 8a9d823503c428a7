"""Integrations over AMQP: a RabbitMQ user, the company it acts for, the parties it may act as.

The engine takes a message only from a sender it can name (``services.bus.auth``) and only
within that sender's grant:

- a timer message only from a services' user (the deadlines service): no integration can fire a
  deadline, whatever routing key it used;
- a command from a services' user (``equityflow demo`` sends its commands so) for any company;
- a command from an integration's user only for the company it is registered for, as one of
  the parties it was granted (``equityflow integrations add``).

Anything else is refused before it reaches the engine: dead-lettered with the reason, so it
creates no row of the company it claims and uses up none of its message ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from services.bus.auth import Gate
from services.bus.poison import PoisonMessage
from workflows.messages import CommandMessage, TimerMessage


class Unauthorised(PoisonMessage):
    """The sender may not send this message; ``str()`` says who sent what and what to do."""


@dataclass(frozen=True)
class Integration:
    rabbitmq_user: str
    company_id: str
    parties: tuple[str, ...]
    created_at: datetime | None = None


async def add_integration(pool: asyncpg.Pool, integration: Integration) -> bool:
    """Register (or re-grant) an integration's user; True if it is new."""
    return bool(
        await pool.fetchval(
            "INSERT INTO integrations (rabbitmq_user, company_id, parties) VALUES ($1, $2, $3) "
            "ON CONFLICT (rabbitmq_user) DO UPDATE "
            "SET company_id = EXCLUDED.company_id, parties = EXCLUDED.parties "
            "RETURNING xmax = 0",
            integration.rabbitmq_user,
            integration.company_id,
            list(integration.parties),
        )
    )


async def remove_integration(pool: asyncpg.Pool, rabbitmq_user: str) -> bool:
    done = await pool.execute("DELETE FROM integrations WHERE rabbitmq_user = $1", rabbitmq_user)
    return done != "DELETE 0"


async def list_integrations(pool: asyncpg.Pool) -> list[Integration]:
    rows = await pool.fetch(
        "SELECT rabbitmq_user, company_id, parties, created_at FROM integrations "
        "ORDER BY company_id, rabbitmq_user"
    )
    return [
        Integration(r["rabbitmq_user"], r["company_id"], tuple(r["parties"]), r["created_at"])
        for r in rows
    ]


async def find_integration(pool: asyncpg.Pool, rabbitmq_user: str) -> Integration | None:
    row = await pool.fetchrow(
        "SELECT rabbitmq_user, company_id, parties FROM integrations WHERE rabbitmq_user = $1",
        rabbitmq_user,
    )
    if row is None:
        return None
    return Integration(row["rabbitmq_user"], row["company_id"], tuple(row["parties"]))


async def authorise(
    pool: asyncpg.Pool, gate: Gate, sender: str | None, message: CommandMessage | TimerMessage
) -> None:
    """Return if ``sender`` may send ``message``; raise ``Unauthorised`` saying why not."""
    if not gate.authenticates or gate.is_service(sender):
        return
    if sender is None:
        raise Unauthorised(
            "unauthenticated: the message has no user_id; publish with the user_id property "
            "set to your RabbitMQ user (RabbitMQ checks it against your connection)"
        )
    if isinstance(message, TimerMessage):
        raise Unauthorised(
            f"unauthorised: RabbitMQ user {sender!r} sent a timer message; timer messages "
            "come only from the equityflow deadlines service"
        )
    if message.caused_by is not None:
        raise Unauthorised(
            f"unauthorised: RabbitMQ user {sender!r} sent a command caused by another workflow; "
            "those come only from the equityflow engine"
        )
    integration = await find_integration(pool, sender)
    if integration is None:
        raise Unauthorised(
            f"unauthorised: RabbitMQ user {sender!r} is not a registered integration "
            "(an operator registers it with `equityflow integrations add`)"
        )
    if message.company_id != integration.company_id:
        raise Unauthorised(
            f"unauthorised: RabbitMQ user {sender!r} acts for company "
            f"{integration.company_id!r}, not {message.company_id!r}"
        )
    if message.actor.party.value not in integration.parties:
        raise Unauthorised(
            f"unauthorised: RabbitMQ user {sender!r} may act as "
            f"{', '.join(integration.parties)}, not {message.actor.party.value}"
        )
