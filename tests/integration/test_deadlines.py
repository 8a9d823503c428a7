"""The deadlines service fires each due timer once, as a timer message, even with two replicas."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aio_pika.exceptions import DeliveryError
from calls import Calls
from fired import BUNDLES, timers_in, until_fired

from services.bus.publisher import Publisher
from services.bus.runner import running_bus
from services.bus.tap import eventually, tap
from services.bus.topology import Topology
from services.clock import Clock, SimulatedClock
from services.deadlines import fire_due_timers, run_deadlines
from services.store.db import connect
from workflows.messages import TimerBundle

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


async def _timers(pool: asyncpg.Pool, workflows: int, per_workflow: int, due: datetime) -> None:
    """``workflows`` × ``per_workflow`` pending timers, due at ``due`` (spread by seconds)."""
    for _ in range(workflows):
        wid = uuid.uuid4()
        await pool.execute(
            "INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, "
            "state, data, version, final, head_hash, created_at, updated_at) "
            "VALUES ($1, 'acme', 'rofr', 'fmp-1998-nso', '{}', 'waiting', '{}', 1, false, "
            "repeat('0', 64), $2, $2)",
            wid,
            due,
        )
        await pool.executemany(
            "INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, "
            "party, action, clause, derivation, deadline) VALUES "
            "($1, $2, 'acme', 'rofr', $3, $4, 'company', 'elect', 'FMP §6(d)(iii)', 'test', '{}')",
            [
                (uuid.uuid4(), wid, f"window_{i}", due - timedelta(seconds=i))
                for i in range(per_workflow)
            ],
        )


async def _fire_all(pool: asyncpg.Pool, clock: Clock, pub: Publisher, t: Topology) -> int:
    total = 0
    while fired := await fire_due_timers(pool, clock, pub, t, batch_size=9):
        total += fired
    return total


async def test_two_replicas_fire_each_due_timer_exactly_once(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pools = [await connect(fresh_database_url) for _ in range(2)]
    try:
        clock = SimulatedClock(pools[0])
        await clock.set(NOW)
        await _timers(pools[0], 20, 10, due=NOW)  # 200 due
        await _timers(pools[0], 3, 2, due=NOW + timedelta(days=30))  # 6 not due yet
        async with (
            running_bus(amqp_url, topology) as one,
            running_bus(amqp_url, topology) as two,
            tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
        ):
            counts = await asyncio.gather(
                _fire_all(pools[0], SimulatedClock(pools[0]), one.publisher, topology),
                _fire_all(pools[1], SimulatedClock(pools[1]), two.publisher, topology),
            )
            await fired.caught_up()  # everything: both replicas are done
        assert sum(counts) == 200
        assert all(counts), "both replicas took a share"
        timers = timers_in(fired.messages)
        ids = [t.message_id for t in timers]
        assert len(ids) == 200 and len(set(ids)) == 200
        assert len(fired.messages) < 200  # bundled
        rows = await pools[0].fetch("SELECT timer_id, status, fired_at, due_at FROM timers")
        by_id = {str(r["timer_id"]): r for r in rows}
        assert {by_id[i]["status"] for i in ids} == {"fired"}
        assert {by_id[i]["fired_at"] for i in ids} == {NOW}
        assert sorted(r["status"] for r in rows if str(r["timer_id"]) not in ids) == ["pending"] * 6
        for m in fired.messages:  # each bundle to one engine shard, every timer of that shard
            bundle = TimerBundle.model_validate_json(m.body)
            shards = {topology.engine_shard(t.workflow_id) for t in bundle.timers}
            assert [f"timers.{shard}" for shard in shards] == [m.routing_key]
            # each timer's text is its TimerMessage's, byte for byte
            texts = b",".join(t.model_dump_json().encode() for t in bundle.timers)
            assert m.body == b'{"kind":"timers","timers":[' + texts + b"]}"
        for t in timers:
            assert t.timer.due_at == by_id[t.message_id]["due_at"]
    finally:
        for p in pools:
            await p.close()


async def test_a_timer_fires_when_the_simulated_clock_reaches_it(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await _timers(pool, 1, 1, due=NOW + timedelta(days=30))
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
        ):
            passes = Calls()
            service = asyncio.create_task(
                run_deadlines(
                    pool, clock, bus.publisher, topology, poll_interval=0.05, on_pass=passes
                )
            )
            try:
                await passes.more(2)
                assert await fired.caught_up() == []  # not due: nothing fires
                assert await pool.fetchval("SELECT status FROM timers") == "pending"
                await clock.advance(timedelta(days=30))
                (message,) = await until_fired(fired, 1, within=5)
                await eventually(lambda: pool.fetchval("SELECT fired_at FROM timers"))
            finally:
                service.cancel()
                await asyncio.gather(service, return_exceptions=True)
        assert json.loads(message.body)["timer"] == "window_0"
        assert await pool.fetchval("SELECT fired_at FROM timers") == NOW + timedelta(days=30)
    finally:
        await pool.close()


class _NackFirst:
    """The real publisher, but the first bundle published fails as a nack would."""

    def __init__(self, inner: Publisher) -> None:
        self.inner, self.failed = inner, ""

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        if not self.failed:
            self.failed = kwargs["routing_key"]
            raise DeliveryError(None, None)  # what aio-pika raises on a nack or a return
        await self.inner.publish(body, **kwargs)


async def test_a_nacked_bundle_stays_due_and_its_shard_s_later_bundles_wait_for_it(
    fresh_database_url: str, amqp_url: str, topology: Topology, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("services.bus.timer_bundles.MAX_BUNDLE_TIMERS", 2)  # several a shard
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await _timers(pool, 8, 3, due=NOW)  # 24 due, three to a workflow
        rows = await pool.fetch("SELECT timer_id::text, workflow_id FROM timers ORDER BY due_at")
        async with (
            running_bus(amqp_url, topology) as bus,
            tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
        ):
            nacking = _NackFirst(bus.publisher)
            with pytest.raises(DeliveryError):
                await fire_due_timers(pool, clock, nacking, topology, batch_size=100)
            shard = int(nacking.failed.rsplit(".", 1)[1])
            in_shard = {r[0] for r in rows if topology.engine_shard(r["workflow_id"]) == shard}
            pending = await pool.fetch("SELECT timer_id::text FROM timers WHERE status = 'pending'")
            assert {r[0] for r in pending} == in_shard  # the other shards' fired
            assert len(in_shard) > 2  # more than the bundle that failed: those after it too
            assert await fire_due_timers(pool, clock, nacking, topology, batch_size=100) == len(
                in_shard
            )
            await fired.caught_up()
        received = [t.message_id for t in timers_in(fired.messages)]
        assert len(received) == len(set(received)) == 24  # each once
        for workflow_id in {r["workflow_id"] for r in rows}:  # each workflow's in due order
            order = [r[0] for r in rows if r["workflow_id"] == workflow_id]
            assert [mid for mid in received if mid in order] == order
    finally:
        await pool.close()


async def test_a_claim_reads_the_clock_as_it_is_when_it_claims(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    """The demo turns the simulated clock back for each story. A pass that read the time and
    then waited for a connection would claim by the instant the clock has left, and fire a
    deadline not yet due; the claim reads the clock itself."""
    pool = await connect(fresh_database_url)
    later = NOW + timedelta(days=90)

    async def turned_back_meanwhile(connection: asyncpg.Connection) -> None:
        # Runs on each acquire: after any reading taken before it, before the claim.
        await SimulatedClock(pool).set(NOW)

    waiting = await asyncpg.create_pool(
        fresh_database_url, min_size=1, max_size=1, setup=turned_back_meanwhile
    )
    try:
        clock = SimulatedClock(pool)
        await _timers(pool, 1, 1, due=NOW + timedelta(days=30))
        await clock.set(later)  # the previous story's time: the timer would be due
        async with running_bus(amqp_url, topology) as bus:
            # The clock read on a connection of its own, the claim on another (which the
            # service has to wait for): the clock is turned back in between.
            assert await fire_due_timers(waiting, clock, bus.publisher, topology) == 0
            assert await pool.fetchval("SELECT status FROM timers") == "pending"
            await clock.set(later)
            assert await fire_due_timers(pool, clock, bus.publisher, topology) == 1
        assert await pool.fetchval("SELECT fired_at FROM timers") == later
    finally:
        await waiting.close()
        await pool.close()
