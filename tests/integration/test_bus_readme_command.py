"""The command the README shows for AMQP, sent as an integration would, is applied.

The body is read from the README itself (the first JSON block of "The message contract"), so
the documentation cannot drift from what the engine accepts. It carries no ``kind``: the routing
key ``command.<workflow_type>.<command>`` says it is a command. A command to a company that does
not exist is dead-lettered with its reason, and nothing of it is recorded.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from services.bus.runner import Bus, delete_topology
from services.bus.serve import bus_services
from services.bus.tap import eventually, take, waiting
from services.bus.topology import ERROR_HEADER, Topology
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.settings import Settings
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import command_routing_key

README = Path(__file__).resolve().parents[2] / "README.md"
# The day after the README's notice was delivered in person (2026-11-20 10:00 PST).
NOW = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)


def readme_command() -> dict[str, Any]:
    contract = README.read_text(encoding="utf-8").split("## The message contract", 1)[1]
    block = re.search(r"```json\n(.*?)```", contract, re.DOTALL)
    assert block is not None, "the README shows no JSON command under The message contract"
    body: dict[str, Any] = json.loads(block.group(1))
    return body


@asynccontextmanager
async def _engine(url: str, amqp_url: str | None, topology: Topology) -> AsyncIterator[Bus]:
    async with AsyncExitStack() as stack:
        if amqp_url:
            stack.push_async_callback(delete_topology, amqp_url, topology)
        pool = await connect(url)
        stack.push_async_callback(pool.close)
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        settings = Settings().model_copy(update={"amqp_url": amqp_url, "database_url": url})
        rt = Runtime(settings, url, pool, clock, TermsCatalog(), topology)
        yield await stack.enter_async_context(bus_services(rt, ("engine",)))


async def _publish(bus: Bus, body: dict[str, Any]) -> None:
    await bus.publisher.publish(
        json.dumps(body).encode(),
        exchange=bus.topology.commands_exchange,
        routing_key=command_routing_key(body["workflow_type"], body["command"]),
        message_id=body["message_id"],
    )


async def _state(url: str, workflow_id: str) -> str | None:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval(  # type: ignore[no-any-return]
            "SELECT state FROM workflows WHERE workflow_id = $1", uuid.UUID(workflow_id)
        )
    finally:
        await connection.close()


@pytest.mark.parametrize("broker", ["rabbitmq", "in-memory"])
async def test_the_readme_command_sent_over_amqp_is_applied(
    fresh_database_url: str, amqp_url: str, namespace: str, broker: str
) -> None:
    body = readme_command()
    assert "kind" not in body
    pool = await connect(fresh_database_url)
    try:
        await register_company(pool, body["company_id"], "fmp-1998-nso")
    finally:
        await pool.close()
    url = amqp_url if broker == "rabbitmq" else None
    topology = Topology(namespace)
    async with _engine(fresh_database_url, url, topology) as bus:
        await _publish(bus, body)
        if bus.in_memory:
            await bus.drain()

        async def opened() -> bool:
            return await _state(fresh_database_url, body["workflow_id"]) == "election_window"

        await eventually(opened, within=15)
        if url:
            assert await waiting(url, topology.dead_letter_queue.name) == 0


async def test_a_command_to_a_company_that_does_not_exist_is_dead_lettered_with_why(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    body = {**readme_command(), "company_id": "nosuchco"}
    topology = Topology(namespace)
    async with _engine(fresh_database_url, amqp_url, topology) as bus:
        await _publish(bus, body)
        [dead] = await take(amqp_url, topology.dead_letter_queue.name, 1, within=15)
    assert json.loads(dead.body) == body
    reason = str(dead.headers[ERROR_HEADER])
    assert "no company nosuchco is registered" in reason and "registers it first" in reason
    connection = await asyncpg.connect(fresh_database_url)
    try:
        for table in ("inbox", "outbox", "history", "workflows"):
            count = await connection.fetchval(f"SELECT count(*) FROM {table}")
            assert count == 0, f"{table} keeps {count} rows for a company that does not exist"
    finally:
        await connection.close()
