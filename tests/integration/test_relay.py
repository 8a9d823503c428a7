"""The relay publishes every outbox row to RabbitMQ once, with its message id, and marks it."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import asyncpg
import pytest
from aio_pika.exceptions import DeliveryError
from calls import Calls

from services.bus.publisher import Publisher
from services.bus.runner import running_bus
from services.bus.tap import tap
from services.bus.topology import Topology
from services.relay import relay_once, run_relay
from services.store.db import connect


async def _outbox(pool: asyncpg.Pool, count: int, workflows: int = 0) -> list[str]:
    """``count`` events; of workflow ``i % workflows`` each, or company-wide if no workflows."""
    ids = [str(uuid.uuid4()) for _ in range(count)]
    owners = [uuid.uuid4() for _ in range(workflows)]
    await pool.executemany(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "VALUES ('acme', $4, 'events', $1, $2, $3)",
        [
            (
                f"event.rofr.thing_{i % 3}_happened",
                mid,
                {"event_id": mid, "n": i},
                owners[i % workflows] if owners else None,
            )
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
            await events.caught_up()
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


class _Killed(BaseException):
    """Not an ``Exception``: the process dying, which no code of the relay survives."""


class _CrashAfter:
    """The real publisher, but the process 'dies' after ``n`` confirmed publishes."""

    def __init__(self, inner: Publisher, n: int) -> None:
        self.inner, self.left = inner, n

    async def publish(self, body: bytes, **kwargs: object) -> None:
        await self.inner.publish(body, **kwargs)  # type: ignore[arg-type]
        self.left -= 1
        if self.left == 0:
            raise _Killed("killed after publishing, before the commit")


async def test_a_crash_before_commit_republishes_with_the_same_message_ids(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        ids = await _outbox(pool, 5, workflows=5)
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            with pytest.raises(_Killed):
                await relay_once(pool, _CrashAfter(bus.publisher, 3), topology, batch_size=10)
            assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 5
            first = len(await events.caught_up())
            assert await relay_once(pool, bus.publisher, topology, batch_size=10) == 5
            await events.wait_for(first + 5)
            await events.caught_up()
        # At least once: what went out before the crash comes again, with the same ids.
        received = [m.message_id for m in events.messages]
        assert first >= 3 and set(received[:first]) <= set(ids)
        assert sorted(received[first:]) == sorted(ids)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0
    finally:
        await pool.close()


class _NackOnce:
    """The real publisher, but the first publish of ``message_id`` fails as a nack would."""

    def __init__(self, inner: Publisher, message_id: str) -> None:
        self.inner, self.message_id, self.publishes = inner, message_id, 0

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        self.publishes += 1
        if kwargs["message_id"] == self.message_id:
            self.message_id = ""
            raise DeliveryError(None, None)  # what aio-pika raises on a nack or a return
        await self.inner.publish(body, **kwargs)


async def test_a_nacked_event_is_left_unsent_and_its_workflow_waits_for_it(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    """Confirms are awaited a wave at a time: what follows a nacked event in its workflow is
    not sent past it; the other workflows' events go on, and are marked sent."""
    pool = await connect(fresh_database_url)
    try:
        ids = await _outbox(pool, 12, workflows=3)  # workflow i % 3, four events each
        by_workflow = {w: [mid for i, mid in enumerate(ids) if i % 3 == w] for w in range(3)}
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            nacking = _NackOnce(bus.publisher, by_workflow[1][1])  # workflow 1's second event
            with pytest.raises(DeliveryError):
                await relay_once(pool, nacking, topology, batch_size=100)
            assert nacking.publishes == 4 + 2 + 4  # workflow 1: its first event and the nack
            unsent = await pool.fetch("SELECT message_id FROM outbox WHERE sent_at IS NULL")
            assert sorted(r["message_id"] for r in unsent) == sorted(by_workflow[1][1:])
            assert await relay_once(pool, nacking, topology, batch_size=100) == 3
            await events.wait_for(12)
            await events.caught_up()
        received = [m.message_id for m in events.messages]
        assert sorted(received) == sorted(ids)  # each once
        for events_of_one in by_workflow.values():
            assert [mid for mid in received if mid in events_of_one] == events_of_one
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
            await events.caught_up()
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
            passes = Calls()
            relay = asyncio.create_task(
                run_relay(
                    pool,
                    bus.publisher,
                    topology,
                    poll_interval=0.05,
                    batch_size=10,
                    on_pass=passes,
                )
            )
            try:
                await passes.more(2)  # idle: backing off, nothing to send
                ids = await _outbox(pool, 3)
                await events.wait_for(3, within=5)
            finally:
                relay.cancel()
                await asyncio.gather(relay, return_exceptions=True)
        assert [m.message_id for m in events.messages] == ids
    finally:
        await pool.close()


async def test_two_relay_replicas_keep_each_workflow_s_events_in_order(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    """One relay publishes at a time: two replicas draining small batches side by side never
    let a workflow's later event (in one replica's batch) overtake an earlier one (in the
    other's)."""
    pools = [await connect(fresh_database_url) for _ in range(2)]
    try:
        ids = await _outbox(pools[0], 200, workflows=4)
        async with (
            running_bus(amqp_url, topology) as one,
            running_bus(amqp_url, topology) as two,
            tap(amqp_url, topology.events_exchange.name) as events,
        ):
            passes = [Calls(), Calls()]
            relays = [
                asyncio.create_task(
                    run_relay(
                        pool,
                        bus.publisher,
                        topology,
                        poll_interval=0.01,
                        batch_size=5,
                        on_pass=passed,
                    )
                )
                for pool, bus, passed in ((pools[0], one, passes[0]), (pools[1], two, passes[1]))
            ]
            try:
                await events.wait_for(200, within=30)
                for passed in passes:  # each relay has looked again: nothing left to send
                    await passed.more(2)
                await events.caught_up()
            finally:
                for relay in relays:
                    relay.cancel()
                await asyncio.gather(*relays, return_exceptions=True)
        received = [m.message_id for m in events.messages]
        assert sorted(received) == sorted(ids)
        for w in range(4):
            of_one = [mid for i, mid in enumerate(ids) if i % 4 == w]
            assert [mid for mid in received if mid in of_one] == of_one
    finally:
        for p in pools:
            await p.close()
