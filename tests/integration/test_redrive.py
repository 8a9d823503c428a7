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
from datetime import UTC, datetime

import aio_pika
import asyncpg
import pytest

from services.bus.consumers import engine_consumer, notices_consumer
from services.bus.poison import dead_letter
from services.bus.redrive import redrive
from services.bus.runner import running_bus
from services.bus.tap import eventually, take, tap
from services.bus.topology import REDRIVEN_HEADER, ROUTING_KEY_HEADER, SOURCE_QUEUE_HEADER, Topology
from services.clock import SimulatedClock
from services.store import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import ActorIn, CommandMessage

NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
ROUTING_KEY = "command.rofr.deliver_disposition_notice"
POISON = b'{"kind": "command", "message_id": '


pytestmark = pytest.mark.topology(delivery_limit=2)


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
    engine = topology.engine_queue.name  # the poison's: published as an integration would
    shard = topology.engine_queue_of(command.workflow_id).name  # the command's, sent by a service

    code, out = await _equityflow("redrive", "--dry-run", env=env)
    assert code == 0, out
    # parked after its last attempt: rejected by the engine, dead-lettered by RabbitMQ
    assert (
        f"{command.message_id} {ROUTING_KEY}.{topology.engine_shard(command.workflow_id)}: "
        f"rejected in {shard}" in out
    )
    assert f"would be sent back to {shard}" in out
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
            # Straight to the engine queue: whoever listens on the commands exchange sees no copy.
            assert await sent.caught_up() == []
            await eventually(lambda: _has_exactly(amqp_url, topology, 1))  # the poison one

            # --all: the poison one goes back too, is dead-lettered again by the engine (at
            # once), and the pass does not pick it up a second time.
            letters = await redrive(amqp_url, topology, include_poison=True)
            assert [(x.message_id, x.redriven, x.action) for x in letters] == [
                ("poison", True, f"sent back to {engine}")
            ]
            await eventually(lambda: _has_exactly(amqp_url, topology, 1))
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 1
    finally:
        await pool.close()
    [again] = await redrive(amqp_url, topology, dry_run=True)
    assert (again.message_id, again.routing_key, again.poison) == ("poison", ROUTING_KEY, True)
    assert again.error.startswith("Invalid JSON") and again.rounds == 1
    assert again.line().endswith("(sent back 1 time before)")


async def _has_exactly(amqp_url: str, topology: Topology, count: int) -> bool:
    return await _dead_letter_count(amqp_url, topology) == count


async def test_redrive_all_with_the_engine_running_sends_each_message_back_once(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    """Poison sent back comes straight back: a pass stops at what the queue held when it began."""
    poison = [f"poison-{i}" for i in range(20)]
    consumer = engine_consumer(pool, SimulatedClock(pool), TermsCatalog())
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        for message_id in poison:
            await bus.publisher.publish(
                POISON, exchange=topology.commands_exchange, routing_key=ROUTING_KEY,
                message_id=message_id,
            )  # fmt: skip
        await eventually(lambda: _has_exactly(amqp_url, topology, len(poison)), within=15)
        # A second dead letter of one message (dead-lettering is at least once).
        await dead_letter(
            bus.publisher, topology, body=POISON, routing_key=ROUTING_KEY,
            message_id=poison[0], source_queue=topology.engine_queue.name, reason="again",
        )  # fmt: skip
        await eventually(lambda: _has_exactly(amqp_url, topology, len(poison) + 1))

        for round_ in (1, 2):
            letters = await asyncio.wait_for(redrive(amqp_url, topology, include_poison=True), 30)
            assert sorted(x.message_id for x in letters if x.redriven) == sorted(poison)
            [twice] = [x for x in letters if not x.redriven]
            assert twice.message_id == poison[0]
            assert twice.action == "left: a message with this id was sent back in this pass"
            await eventually(lambda: _has_exactly(amqp_url, topology, len(poison) + 1))

            # Dead-lettered again by the engine, each counts its rounds (the two copies of
            # poison-0 share theirs: either may be the one sent back).
            looked = await redrive(amqp_url, topology, dry_run=True)
            assert {x.rounds for x in looked if x.message_id != poison[0]} == {round_}
            assert sum(x.rounds for x in looked if x.message_id == poison[0]) == round_
            assert {x.routing_key for x in looked} == {ROUTING_KEY}


async def test_a_redriven_event_goes_back_to_its_queue_only(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    """Another queue bound to the events exchange (an integration) is not sent a second copy."""
    routing_key = "event.rofr.deadline_set"
    clock = SimulatedClock(pool)
    integration = f"{topology.namespace}.integration"
    connection = await aio_pika.connect(amqp_url, timeout=10)
    channel = await connection.channel()
    try:
        async with running_bus(amqp_url, topology, [notices_consumer(pool, clock)]) as bus:
            listener = await channel.declare_queue(integration, durable=True)
            await listener.bind(topology.events_exchange.name, routing_key="event.#")
            await bus.publisher.publish(
                b"not json", exchange=topology.events_exchange, routing_key=routing_key,
                message_id="broken-event",
            )  # fmt: skip
            await eventually(lambda: _has_exactly(amqp_url, topology, 1))

        [letter] = await redrive(amqp_url, topology, include_poison=True)
        assert letter.action == f"sent back to {topology.notices_queue.name}"
        assert await _count(channel, integration) == 1  # the copy it had, and no other
        assert await _count(channel, topology.notices_queue.name) == 1

        async with running_bus(amqp_url, topology, [notices_consumer(pool, clock)]):
            await eventually(lambda: _has_exactly(amqp_url, topology, 1))
        [back] = await take(amqp_url, topology.dead_letter_queue.name, 1)
        assert (back.routing_key, back.message_id, back.body) == (
            routing_key, "broken-event", b"not json",
        )  # fmt: skip
        assert back.headers[ROUTING_KEY_HEADER] == routing_key
        assert back.headers[SOURCE_QUEUE_HEADER] == topology.notices_queue.name
        assert back.headers[REDRIVEN_HEADER] == "1"
    finally:
        await channel.queue_delete(integration)
        await connection.close()


async def _count(channel: aio_pika.abc.AbstractChannel, queue: str) -> int:
    declared = await channel.declare_queue(queue, passive=True)
    return int(declared.declaration_result.message_count or 0)
