"""Clean bytes at the AMQP edge: a message that can never be stored is dead-lettered at once with
its reason in ``x-equityflow-error``, and the consumer goes straight on with the next one.

Finding: 60 commands with a NUL in their message id or payload were taken for a transient
database error and retried for minutes, holding 60 delivery slots, logging 721 tracebacks and
reaching the dead-letter queue only through its delivery limit, with no reason recorded.
"""

from __future__ import annotations

import json
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from faststream.rabbit import RabbitBroker

from services.bus.auth import Gate
from services.bus.consumers import engine_consumer, subscribe
from services.bus.publisher import Publisher
from services.bus.runner import delete_topology, running_bus
from services.bus.tap import eventually, take
from services.bus.topology import ERROR_HEADER, Topology
from services.clock import SimulatedClock
from services.store import register_company
from services.terms_catalog import TermsCatalog

COMPANY = "clean-bytes-co"
ROUTING_KEY = "command.rofr.deliver_disposition_notice"


@pytest.fixture
async def topology(amqp_url: str, namespace: str) -> AsyncIterator[Topology]:
    t = Topology(namespace)  # the default delivery limit: a retried message would take minutes
    yield t
    await delete_topology(amqp_url, t)


def _notice(**changes: Any) -> dict[str, Any]:
    command: dict[str, Any] = {
        "kind": "command",
        "message_id": f"notice-{uuid.uuid4()}",
        "company_id": COMPANY,
        "workflow_id": str(uuid.uuid4()),
        "workflow_type": "rofr",
        "command": "deliver_disposition_notice",
        "actor": {"party": "owner", "name": "Olivia Owner"},
        "payload": {
            "holder": "Olivia Owner", "shares": 1000, "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "opinion of counsel",
            "notice": {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"},
        },
    }  # fmt: skip
    command.update(changes)
    return command


def _unstorable(n: int) -> tuple[bytes, str]:
    """The n-th bad message (NUL in its id, NUL or a lone surrogate deep in its payload), and
    words its reason must hold."""
    good = _notice()
    if n % 3 == 0:
        return json.dumps(_notice(message_id=f"poison\x00{n}")).encode(), "message_id"
    if n % 3 == 1:
        payload = {**good["payload"], "transferee": {"name": f"Bob\x00{n}"}}
        return json.dumps(_notice(payload=payload)).encode(), "transferee.name: contains NUL"
    payload = {**good["payload"], "holder": f"Olivia\udc00{n}"}
    return json.dumps(_notice(payload=payload)).encode(), "surrogate"  # escaped: valid JSON


async def test_sixty_unstorable_commands_are_dead_lettered_at_once_and_the_next_is_applied(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    await register_company(pool, COMPANY, "fmp-1998-nso")
    clock = SimulatedClock(pool)
    bad = [_unstorable(n) for n in range(60)]
    valid = _notice()
    consumer = engine_consumer(pool, clock, TermsCatalog())  # the default 0.5 s back-off
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        for n, (body, _) in enumerate(bad):
            await bus.publisher.publish(
                body, exchange=topology.commands_exchange, routing_key=ROUTING_KEY,
                message_id=f"bad-{n}",
            )  # fmt: skip
        await bus.publisher.publish(
            json.dumps(valid).encode(), exchange=topology.commands_exchange,
            routing_key=ROUTING_KEY, message_id=valid["message_id"],
        )  # fmt: skip
        dead = await take(amqp_url, topology.dead_letter_queue.name, 60, within=60)
        applied = await eventually(
            lambda: pool.fetchval(
                "SELECT outcome FROM inbox WHERE company_id = $1 AND message_id = $2",
                COMPANY,
                valid["message_id"],
            )
        )
    assert applied == "applied"
    assert len(dead) == 60
    reasons = {m.message_id: str(m.headers.get(ERROR_HEADER, "")) for m in dead}
    for n, (_, words) in enumerate(bad):
        assert words in reasons[f"bad-{n}"], reasons[f"bad-{n}"]
    # dead-lettered on their first delivery: never retried, never parked by the delivery limit
    assert all("x-first-death-reason" not in m.headers for m in dead)
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE company_id = $1", COMPANY) == 1


async def test_an_over_long_message_is_dead_lettered_before_it_is_parsed(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    consumer = engine_consumer(pool, SimulatedClock(pool), TermsCatalog(), max_bytes=1000)
    body = b"{" + b" " * 2000  # not even JSON: it is never parsed
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        await bus.publisher.publish(
            body, exchange=topology.commands_exchange, routing_key=ROUTING_KEY, message_id="big"
        )
        [dead] = await take(amqp_url, topology.dead_letter_queue.name, 1, within=15)
    reason = str(dead.headers[ERROR_HEADER])
    assert "2001 bytes, over the limit of 1000" in reason, reason


async def test_a_value_the_database_refuses_is_dead_lettered_with_why_not_retried(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    """What the parser lets through but PostgreSQL refuses for what it holds: permanent.

    A holder of 20,000 characters is a valid command, but too large for the index of open
    workflows by holder (SQLSTATE 54000); a NUL that reached a query would be a data exception
    (class 22). Neither can succeed on a retry.
    """
    await register_company(pool, COMPANY, "fmp-1998-nso")
    huge = _notice(payload={**_notice()["payload"], "holder": secrets.token_hex(10_000)})
    nul_reached_the_database = b"a\x00b"

    async def store_text(body: bytes, _published_as: str, _sender: str | None) -> None:
        await pool.execute("SELECT $1::text", body.decode())

    def nul_consumer(broker: RabbitBroker, t: Topology, publisher: Publisher, gate: Gate) -> None:
        subscribe(
            broker, t, publisher, t.notices_subscription, t.events_exchange, store_text, gate=gate,
            title="test", description="stores what it gets", retry_delay=0.5,
        )  # fmt: skip

    consumers = [engine_consumer(pool, SimulatedClock(pool), TermsCatalog()), nul_consumer]
    async with running_bus(amqp_url, topology, consumers) as bus:
        await bus.publisher.publish(
            json.dumps(huge).encode(), exchange=topology.commands_exchange,
            routing_key=ROUTING_KEY, message_id="huge",
        )  # fmt: skip
        await bus.publisher.publish(
            nul_reached_the_database, exchange=topology.events_exchange,
            routing_key="event.rofr.anything", message_id="nul",
        )  # fmt: skip
        dead = await take(amqp_url, topology.dead_letter_queue.name, 2, within=20)
    reasons = {m.message_id: str(m.headers[ERROR_HEADER]) for m in dead}
    assert "SQLSTATE 54000" in reasons["huge"] and "index row" in reasons["huge"], reasons
    assert "SQLSTATE 22021" in reasons["nul"], reasons
    assert all("x-first-death-reason" not in m.headers for m in dead)
