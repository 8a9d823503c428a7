"""Two engine processes share the engine's work: the shards spread over them, both apply
messages, the messages of each workflow still apply once each and in the order published, and
when one engine stops the other takes over its shards without a message lost or reordered.

The first engine to start is first in line on every shard and so receives everything; the
second gets its share only because the first hands shards back (``services.bus.engine_queues``).
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import Any

import asyncpg
import pytest
from rofr_commands import COMPANY, NOW, disposition_notice, rofr_command

from services.bus.consumers import engine_consumer
from services.bus.runner import Bus, running_bus
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.engine import apply
from services.store import register_company
from services.terms_catalog import TermsCatalog

PER_SHARD = 4  # workflows on each of the 4 shards: every shard has work

pytestmark = pytest.mark.topology(engine_shards=4)


def workflows_on_every_shard(topology: Topology) -> list[uuid.UUID]:
    """Random workflow ids, ``PER_SHARD`` on each shard: 16 ids drawn at random leave a shard
    without work about one time in 25."""
    by_shard: dict[int, list[uuid.UUID]] = {s: [] for s in range(topology.engine_shards)}
    while any(len(ids) < PER_SHARD for ids in by_shard.values()):
        workflow_id = uuid.uuid4()
        shard = by_shard[topology.engine_shard(workflow_id)]
        if len(shard) < PER_SHARD:
            shard.append(workflow_id)
    return [w for ids in by_shard.values() for w in ids]


class CountingPool:
    """The engine's pool, counting the transactions an engine asks for: which engine works."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.asked = pool, 0

    def acquire(self) -> Any:
        self.asked += 1
        return self.pool.acquire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


class Publishing:
    """Sends one ``assign_rofr`` to every workflow per round, round after round, until stopped,
    remembering the order sent."""

    def __init__(self, bus: Bus, ids: list[uuid.UUID]) -> None:
        self.bus, self.ids, self.rounds = bus, ids, 0
        self.sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
        self._stop = asyncio.Event()

    async def run(self) -> None:
        while not self._stop.is_set():
            for workflow_id in self.ids:
                assignee = f"assignee {self.rounds:04d} of {workflow_id}"
                self.sent[workflow_id].append(assignee)
                command = rofr_command(workflow_id, "assign_rofr", "company", assignee=assignee)
                await self.bus.send_command(command)
            self.rounds += 1

    async def rounds_past(self, n: int) -> bool:
        return self.rounds > n

    def stop(self) -> None:
        self._stop.set()


async def test_two_engines_share_the_shards_and_one_stopping_leaves_the_other_applying(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso", "FMP")
    ids = workflows_on_every_shard(topology)
    for workflow_id in ids:
        assert (
            await apply(fresh_pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"

    first, second = CountingPool(fresh_pool), CountingPool(fresh_pool)
    engine = engine_consumer  # each running_bus below is a process of its own to RabbitMQ
    async with contextlib.AsyncExitStack() as first_engine:
        await first_engine.enter_async_context(
            running_bus(amqp_url, topology, [engine(first, clock, catalog)])  # type: ignore[arg-type]
        )
        async with running_bus(amqp_url, topology, [engine(second, clock, catalog)]) as bus:  # type: ignore[arg-type]
            publishing = Publishing(bus, ids)
            sending = asyncio.create_task(publishing.run())
            try:
                # The first engine took every shard; it hands the second its share.
                await eventually(lambda: _working(first, second), within=120)
                await first_engine.aclose()  # stopped while messages keep coming
                stopped_at, after = first.asked, publishing.rounds
                await eventually(lambda: publishing.rounds_past(after + 5), within=60)
            finally:
                publishing.stop()
                await sending
            await eventually(lambda: _applied(fresh_pool, publishing), within=120)
    assert first.asked == stopped_at  # the second did the rest alone

    for workflow_id in ids:  # each once, in the order published
        data = await fresh_pool.fetchval(
            "SELECT data FROM workflows WHERE workflow_id = $1", workflow_id
        )
        assert [a["name"] for a in data["assignees"]] == publishing.sent[workflow_id]


async def _working(*pools: CountingPool) -> bool:
    """Every engine has applied batches since it was last asked."""
    working = all(p.asked > getattr(p, "seen", 0) for p in pools)
    for p in pools:
        p.seen = p.asked  # type: ignore[attr-defined]
    return working


async def _applied(pool: asyncpg.Pool, publishing: Publishing) -> bool:
    versions = await pool.fetch("SELECT workflow_id, version FROM workflows")
    return all(r["version"] == len(publishing.sent[r["workflow_id"]]) + 1 for r in versions)
