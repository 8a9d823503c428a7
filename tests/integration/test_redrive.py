"""``equityflow redrive``: commands parked in the dead-letter queue go back to the engine.

A command that failed on every delivery (the database was down longer than the delivery limit
allows) is parked by RabbitMQ; once the database is back, redrive sends it to the commands
exchange with its routing key and it is applied. A poison message (malformed) stays parked
unless ``--all`` is given: sent back, it is dead-lettered again with its reason.
"""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import aio_pika
import pytest

from services.bus import Topology, delete_topology, engine_consumer, running_bus
from services.bus.redrive import redrive
from services.bus.tap import eventually, tap
from services.bus.topology import REDRIVEN_HEADER
from services.clock import SimulatedClock
from services.store import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import ActorIn, CommandMessage

NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
ROUTING_KEY = "command.rofr.deliver_disposition_notice"
POISON = b'{"kind": "command", "message_id": '


@pytest.fixture
async def topology(amqp_url: str, namespace: str) -> AsyncIterator[Topology]:
    t = Topology(namespace, delivery_limit=2)
    yield t
    await delete_topology(amqp_url, t)


def _notice() -> CommandMessage:
    return CommandMessage(
        message_id=str(uuid.uuid4()),
        company_id="fmp",
        workflow_id=uuid.uuid4(),
        workflow_type="rofr",
        command="deliver_disposition_notice",
        actor=ActorIn(party="owner", name="Olivia Owner"),
        payload={
            "holder": "Olivia Owner",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "opinion of counsel",
            "notice": {"method": "personal", "delivered_at": NOW.isoformat()},
        },
    )


async def _dead_letter_count(amqp_url: str, topology: Topology) -> int:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.dead_letter_queue.name, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def _parked_during_an_outage(
    database_url: str, amqp_url: str, topology: Topology, command: CommandMessage
) -> None:
    """The database is down: the command fails until parked; a malformed one is dead-lettered."""
    down = await connect(database_url)
    clock = SimulatedClock(down)
    await down.close()
    consumer = engine_consumer(down, clock, TermsCatalog(), retry_delay=0.01)
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        await bus.publisher.publish(
            POISON, exchange=topology.commands_exchange, routing_key=ROUTING_KEY,
            message_id="poison",
        )  # fmt: skip
        await bus.send_command(command)
        await eventually(lambda: _has(amqp_url, topology, 2), within=15)


async def _has(amqp_url: str, topology: Topology, count: int) -> bool:
    return await _dead_letter_count(amqp_url, topology) >= count


async def _equityflow(*args: str, env: dict[str, str]) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_redrive_sends_parked_commands_back_and_leaves_poison_unless_asked(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    command = _notice()
    await _parked_during_an_outage(fresh_database_url, amqp_url, topology, command)
    env = {"AMQP_URL": amqp_url, "EQUITYFLOW_NAMESPACE": topology.namespace}

    code, out = await _equityflow("redrive", "--dry-run", env=env)
    assert code == 0, out
    parked = f"{command.message_id} {ROUTING_KEY}: delivery_limit in {topology.engine_queue.name}"
    assert parked in out
    assert f"would be sent back to {topology.commands_exchange.name}" in out
    assert "poison " + ROUTING_KEY + ": Invalid JSON" in out
    assert "left: poison" in out and "dry run" in out
    assert await _dead_letter_count(amqp_url, topology) == 2  # nothing moved

    pool = await connect(fresh_database_url)
    try:
        await register_company(pool, "fmp", "fmp-1998-nso")
        await SimulatedClock(pool).set(NOW)
        consumer = engine_consumer(pool, SimulatedClock(pool), TermsCatalog())
        async with (
            running_bus(amqp_url, topology, [consumer]),
            tap(amqp_url, topology.commands_exchange.name, "#") as sent,
        ):
            code, out = await _equityflow("redrive", env=env)
            assert code == 0, out
            assert "1 sent back, 1 left" in out
            state = "SELECT state FROM workflows WHERE workflow_id = $1"
            assert await eventually(lambda: pool.fetchval(state, command.workflow_id)) == (
                "election_window"
            )
            [back] = await sent.wait_for(1)
            assert (back.routing_key, back.message_id, back.body) == (
                ROUTING_KEY, command.message_id, command.model_dump_json().encode(),
            )  # fmt: skip
            assert back.headers[REDRIVEN_HEADER] == 1 and "x-death" not in back.headers
            assert await _dead_letter_count(amqp_url, topology) == 1  # the poison one

            # --all: the poison one goes back too, and is dead-lettered again, with its reason.
            letters = await redrive(amqp_url, topology, include_poison=True)
            assert [(x.message_id, x.redriven) for x in letters] == [("poison", True)]
            await eventually(lambda: _has(amqp_url, topology, 1))
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    finally:
        await pool.close()
    again = await redrive(amqp_url, topology, dry_run=True)
    assert [(x.message_id, x.poison) for x in again] == [("poison", True)]
    assert again[0].error.startswith("Invalid JSON")
