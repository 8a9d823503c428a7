"""A shard handed back round after round never takes its messages to their delivery limit.

An engine over its share hands a shard back by closing its channel, which returns what the
channel held to the queue (``services.bus.engine_queues``). A quorum queue counts each return
as a delivery and dead-letters a message returned more often than its delivery limit, although
it never failed. Here one engine is over its share (another engine is present, with no shard)
at every look at the balance, and the shards come back to it each time, since no one else
consumes them: without the rule that a shard holding a message returned before is not handed
back, the same message would go back and forth until RabbitMQ dead-lettered it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import pytest
from rofr_commands import COMPANY, NOW, disposition_notice

from services.bus import consumers, engine_queues
from services.bus.auth import amqp_user
from services.bus.consumers import engine_consumer
from services.bus.engine_queues import EngineQueues
from services.bus.runner import running_bus
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.store import register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, command_routing_key

LIMIT = 2
pytestmark = pytest.mark.topology(engine_shards=2, delivery_limit=LIMIT)


class GatedPool:
    """The engine's pool, but a transaction waits until the gate opens: the batches under way
    hold the engine's two places (``ENGINE_BATCHES_IN_FLIGHT``), and every later delivery
    waits in its channel, unacknowledged."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.waiting, self.gate = pool, 0, asyncio.Event()

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        self.waiting += 1
        await self.gate.wait()
        async with self.pool.acquire() as connection:
            yield connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


def _on_shard(topology: Topology, shard: int) -> uuid.UUID:
    while topology.engine_shard(workflow_id := uuid.uuid4()) != shard:
        pass
    return workflow_id


async def _to_the_intake(amqp_url: str, topology: Topology, *messages: CommandMessage) -> None:
    """Published as an integration does, without a shard: to the intake, never handed back."""
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        exchange = await channel.get_exchange(topology.commands_exchange.name)
        for m in messages:
            body = aio_pika.Message(
                m.model_dump_json().encode(), message_id=m.message_id, user_id=amqp_user(amqp_url)
            )
            await exchange.publish(body, routing_key=command_routing_key("rofr", m.command))


async def test_a_message_of_a_shard_handed_back_round_after_round_is_applied_once(
    fresh_pool: asyncpg.Pool,
    amqp_url: str,
    topology: Topology,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="services.bus.engine_queues")
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso", "FMP")
    made: list[EngineQueues] = []

    class Recorded(EngineQueues):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(consumers, "EngineQueues", Recorded)
    # The test looks at the balance itself; a shard that delivered counts as busy throughout.
    monkeypatch.setattr(engine_queues, "BALANCE_INTERVAL", 3600.0)
    monkeypatch.setattr(engine_queues, "BUSY_WINDOW", 3600.0)
    gated = GatedPool(fresh_pool)
    engine = engine_consumer(gated, clock, catalog, batch_size=1)  # type: ignore[arg-type]
    async with running_bus(amqp_url, topology, [engine]) as bus:
        [queues] = made
        shards = [s for s in queues._subscriptions if s.shard]
        async with await aio_pika.connect(amqp_url) as other_engine:  # present, with no shard
            presence = await (await other_engine.channel()).declare_queue(
                f"{topology.namespace}.engine-presence", auto_delete=True
            )
            await presence.consume(_ignore)

            intake = [disposition_notice(uuid.uuid4()) for _ in range(2)]
            await _to_the_intake(amqp_url, topology, *intake)
            await eventually(lambda: _at_least(gated.waiting, 2))  # both batches under way

            # One message to each shard, shard 0's last: it is the first handed back.
            ids = {shard: _on_shard(topology, shard) for shard in (1, 0)}
            for shard, workflow_id in ids.items():
                await bus.send_command(disposition_notice(workflow_id))
                await eventually(lambda: _delivering(shards[shard]))  # noqa: B023

            for _ in range(LIMIT + 2):  # over its share (two busy shards, two engines) each time
                await queues._balance_once()
                # Each shard back and delivering again, or a message in the dead-letter queue.
                await eventually(lambda: _settled(shards, amqp_url, topology), within=30)
            dead = await _dead_letters(amqp_url, topology)
            assert dead == 0, "handed back over and over, a message that never failed was parked"
            # Each shard was handed back once, and not again while it held what came back.
            handed = [r.args[0] for r in caplog.records if "handing" in r.getMessage()]
            assert sorted(handed) == [s.queue for s in shards]

            gated.gate.set()
            applied = "SELECT count(*) FROM workflows WHERE state = 'election_window'"
            await eventually(lambda: _count_is(fresh_pool, applied, 4), within=60)

    for workflow_id in ids.values():
        history = "SELECT count(*) FROM history WHERE workflow_id = $1"
        assert await fresh_pool.fetchval(history, workflow_id) == 1
    assert await _dead_letters(amqp_url, topology) == 0


async def _ignore(message: aio_pika.abc.AbstractIncomingMessage) -> None:
    await message.ack()


async def _at_least(value: int, expected: int) -> bool:
    return value >= expected


async def _delivering(subscription: Any) -> bool:
    return bool(subscription.channel is not None and subscription.last_delivery > float("-inf"))


async def _settled(subscriptions: list[Any], amqp_url: str, topology: Topology) -> bool:
    delivering = [await _delivering(s) for s in subscriptions]
    return all(delivering) or await _dead_letters(amqp_url, topology) > 0


async def _dead_letters(amqp_url: str, topology: Topology) -> int:
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.dead_letter_queue.name, passive=True)
        return int(queue.declaration_result.message_count or 0)


async def _count_is(pool: asyncpg.Pool, sql: str, expected: int) -> bool:
    return int(await pool.fetchval(sql)) == expected
