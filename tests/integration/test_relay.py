"""The relay publishes every outbox row to RabbitMQ once, with its message id, and marks it."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.bus import Topology, delete_topology, running_bus
from services.bus.publisher import Publisher
from services.bus.tap import tap
from services.relay import relay_once, run_relay
from services.store.db import connect


@pytest.fixture
async def topology(amqp_url: str, namespace: str) -> AsyncIterator[Topology]:
    t = Topology(namespace)
    yield t
    await delete_topology(amqp_url, t)


async def _outbox(pool: asyncpg.Pool, count: int) -> list[str]:
    ids = [str(uuid.uuid4()) for _ in range(count)]
    await pool.executemany(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "VALUES ('acme', NULL, 'events', $1, $2, $3)",
        [
            (f"event.rofr.thing_{i % 3}_happened", mid, {"event_id": mid, "n": i})
            for i, mid in enumerate(ids)
        ],
    )
    return ids


async def _drain(pool: asyncpg.Pool, publisher: Publisher, topology: Topology) -> int:
    total = 0
    while sent := await relay_once(pool, publisher, topology, batch_size=7):
        total += sent
    return total


async def test_each_outbox_row_is_published_once_and_marked_sent(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        ids = await _outbox(pool, 25)
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.events_exchange.name, "event.#") as events,
        ):
            assert await _drain(pool, bus.publisher, topology) == 25
            received = await events.wait_for(25)
            await events.quiet(0.3)
        assert len(events.messages) == 25
        assert [m.message_id for m in received] == ids  # in outbox order
        first = received[0]
        assert json.loads(first.body) == {"event_id": ids[0], "n": 0}
        assert first.routing_key == "event.rofr.thing_0_happened"
        assert first.delivery_mode == 2  # persistent
        unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        assert unsent == 0
    finally:
        await pool.close()


class _CrashAfter:
    """The real publisher, but the process 'dies' after ``n`` confirmed publishes."""

    def __init__(self, inner: Publisher, n: int) -> None:
        self.inner, self.left = inner, n

    async def publish(self, body: bytes, **kwargs: object) -> None:
        await self.inner.publish(body, **kwargs)  # type: ignore[arg-type]
        self.left -= 1
        if self.left == 0:
            raise ConnectionError("killed after publishing, before the commit")


async def test_a_crash_before_commit_republishes_with_the_same_message_ids(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        ids = await _outbox(pool, 5)
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            with pytest.raises(ConnectionError):
                await relay_once(pool, _CrashAfter(bus.publisher, 3), topology, batch_size=10)
            assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5
            assert await relay_once(pool, bus.publisher, topology, batch_size=10) == 5
            await events.wait_for(8)
            await events.quiet(0.3)
        # At least once: the three published before the crash come again, same ids.
        assert [m.message_id for m in events.messages] == ids[:3] + ids
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    finally:
        await pool.close()


async def test_two_relay_replicas_publish_each_row_once(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pools = [await connect(fresh_database_url) for _ in range(2)]
    try:
        ids = await _outbox(pools[0], 300)
        async with (
            running_bus(amqp_url, topology) as one,
            running_bus(amqp_url, topology) as two,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            sent = await asyncio.gather(
                _drain(pools[0], one.publisher, topology), _drain(pools[1], two.publisher, topology)
            )
            await events.wait_for(300, within=20)
            await events.quiet(0.3)
        assert sum(sent) == 300
        assert sorted(m.message_id or "" for m in events.messages) == sorted(ids)
    finally:
        for p in pools:
            await p.close()


async def test_run_relay_picks_up_rows_written_while_it_runs(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            relay = asyncio.create_task(
                run_relay(pool, bus.publisher, topology, poll_interval=0.05, batch_size=10)
            )
            try:
                await asyncio.sleep(0.3)  # idle: backing off, nothing to send
                ids = await _outbox(pool, 3)
                await events.wait_for(3, within=5)
            finally:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
        assert [m.message_id for m in events.messages] == ids
    finally:
        await pool.close()
