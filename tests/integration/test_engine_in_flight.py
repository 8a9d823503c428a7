"""EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT: how many batches an engine process applies at once.

Two (the default) let a lone engine plan one batch while PostgreSQL writes another; with as
many engine processes as cores, one each keeps the cores as busy with less contention. Either
way every message is applied once. Here the engine's pool holds each transaction until the test
lets it go, so the number of batches under way at once is seen, not inferred from timing.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import asyncpg
import pytest
from rofr_commands import COMPANY, NOW, disposition_notice

from services.bus.consumers import engine_consumer
from services.bus.runner import running_bus
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.store import register_company
from services.terms_catalog import TermsCatalog

MESSAGES = 6


class CountingPool:
    """The engine's pool; each transaction waits for the gate, and the most ever under way
    (waiting or running) is counted."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.gate = pool, asyncio.Event()
        self.under_way = self.most = 0

    @contextlib.asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        try:
            await self.gate.wait()
            async with self.pool.acquire() as connection:
                yield connection
        finally:
            self.under_way -= 1

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def _all_delivered(amqp_url: str, topology: Topology) -> bool:
    """Nothing left waiting in the engine's queues: the engine holds every message."""
    async with await aio_pika.connect(amqp_url) as connection:
        channel = await connection.channel()
        for q in topology.engine_queues:
            queue = await channel.declare_queue(q.name, passive=True)
            if queue.declaration_result.message_count:
                return False
    return True


async def _under_way(counting: CountingPool, n: int) -> bool:
    return counting.under_way == n


async def _applied(pool: asyncpg.Pool, ids: list[uuid.UUID]) -> bool:
    count = "SELECT count(*) FROM workflows WHERE workflow_id = ANY($1::uuid[])"
    return bool(await pool.fetchval(count, ids) == len(ids))


@pytest.mark.parametrize("in_flight", [1, 2])
async def test_an_engine_applies_as_many_batches_at_once_as_it_is_told(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology, in_flight: int
) -> None:
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso", "FMP")
    counting = CountingPool(fresh_pool)
    engine = engine_consumer(
        counting,  # type: ignore[arg-type]
        clock,
        catalog,
        batch_size=1,
        in_flight=in_flight,
    )
    ids = [uuid.uuid4() for _ in range(MESSAGES)]
    async with running_bus(amqp_url, topology, [engine]) as bus:
        for workflow_id in ids:  # different workflows: nothing holds a batch back but the count
            await bus.send_command(disposition_notice(workflow_id))
        # Every message with the engine, the first batches held: as many under way as told.
        await eventually(lambda: _all_delivered(amqp_url, topology))
        await eventually(lambda: _under_way(counting, in_flight))
        counting.gate.set()
        await eventually(lambda: _applied(fresh_pool, ids), within=60)
    # Held or not, the engine never had more batches under way than it was told.
    assert counting.most == in_flight
