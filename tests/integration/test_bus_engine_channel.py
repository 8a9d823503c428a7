"""The engine consumes its queue on a channel of its own, and hands it over in order.

Its deliveries are ordered by the channel's delivery tags (``services.bus.engine_feed``): any
other consumer on that channel (the notices service of the same process, say) would take tags
the engine never sees, and each would hold the engine's later messages up as a gap. And an
engine told to stop hands its unfinished messages back before a standby engine can start on
later ones of the same workflows.
"""

from __future__ import annotations

import logging
import uuid
from contextlib import AsyncExitStack
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from rofr_commands import COMPANY, NOW, disposition_notice, rofr_command

from services.bus.consumers import engine_consumer
from services.bus.runner import running_bus
from services.bus.serve import bus_services
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.engine import apply
from services.runtime import Runtime
from services.settings import Settings
from services.store import register_company
from services.terms_catalog import TermsCatalog

GAP = "never reached the consumer"


async def _count(pool: asyncpg.Pool, sql: str) -> int:
    return int(await pool.fetchval(sql))


async def test_commands_timers_and_events_in_one_process_leave_no_gap_in_the_engine_s_deliveries(
    fresh_pool: asyncpg.Pool,
    fresh_database_url: str,
    amqp_url: str,
    topology: Topology,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="services.bus.engine_feed")
    clock = SimulatedClock(fresh_pool)
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso")
    ids = [uuid.uuid4() for _ in range(12)]
    async with running_bus(amqp_url, topology) as sender:  # queued before the engine starts
        for workflow_id in ids[:6]:
            await sender.send_command(disposition_notice(workflow_id))

    settings = Settings().model_copy(
        update={"amqp_url": amqp_url, "database_url": fresh_database_url, "poll_interval": 0.05}
    )
    rt = Runtime(settings, fresh_database_url, fresh_pool, clock, TermsCatalog(), topology)
    final = "SELECT count(*) FROM workflows WHERE state = 'rofr_reattached'"
    async with bus_services(rt) as bus:  # the engine, notices, relay and deadlines services
        for workflow_id in ids[6:]:
            await bus.send_command(disposition_notice(workflow_id))
        opened = "SELECT count(*) FROM workflows WHERE state = 'election_window'"
        await eventually(lambda: _wait_for(fresh_pool, opened, len(ids)), within=60)
        # Timers fire (timer.# to the engine) while events go to the notices queue.
        await clock.advance(timedelta(days=31))
        await clock.advance(timedelta(days=31))
        await eventually(lambda: _wait_for(fresh_pool, final, len(ids)), within=60)
        unsent = "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        await eventually(lambda: _wait_for(fresh_pool, unsent, 0), within=60)
        noticed = "SELECT count(DISTINCT workflow_id) FROM notices WHERE kind = 'deadline'"
        await eventually(lambda: _wait_for(fresh_pool, noticed, len(ids)), within=60)

    gaps = [r.getMessage() for r in caplog.records if GAP in r.getMessage()]
    assert gaps == [], "a delivery tag the engine never saw held its later messages up"


async def _wait_for(pool: asyncpg.Pool, sql: str, expected: int) -> bool:
    return await _count(pool, sql) == expected


class FlakyPool:
    """Every ``every``-th connection asked for fails as if the server had gone away: those
    messages wait for a retry, so a stop always finds some of them unfinished."""

    def __init__(self, pool: asyncpg.Pool, every: int) -> None:
        self.pool, self.every, self.asked = pool, every, 0

    def acquire(self) -> Any:
        self.asked += 1
        if self.asked % self.every == 0:
            raise ConnectionResetError("the server closed the connection")
        return self.pool.acquire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def test_an_engine_told_to_stop_hands_over_to_the_standby_in_the_order_published(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso")
    ids = [uuid.uuid4() for _ in range(4)]
    for workflow_id in ids:
        assert (
            await apply(fresh_pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"
    assignments = 60
    sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
    applied = "SELECT count(*) FROM history WHERE seq > 1"

    first = engine_consumer(
        FlakyPool(fresh_pool, every=4),  # type: ignore[arg-type]
        clock,
        catalog,
        retry_delay=0.3,
        batch_size=4,
    )
    standby = engine_consumer(fresh_pool, clock, catalog, batch_size=4)
    async with running_bus(amqp_url, topology) as bus, AsyncExitStack() as active:
        await active.enter_async_context(running_bus(amqp_url, topology, [first]))
        async with running_bus(amqp_url, topology, [standby]):  # it waits its turn
            for n in range(assignments):
                for workflow_id in ids:
                    assignee = f"assignee {n:02d} of {workflow_id}"
                    sent[workflow_id].append(assignee)
                    await bus.send_command(
                        rofr_command(workflow_id, "assign_rofr", "company", assignee=assignee)
                    )
            await eventually(lambda: _at_least(fresh_pool, applied, 20), within=60)
            await active.aclose()  # told to stop while it holds unfinished work
            await eventually(
                lambda: _wait_for(fresh_pool, applied, assignments * len(ids)), within=120
            )

    for workflow_id in ids:
        data = await fresh_pool.fetchval(
            "SELECT data FROM workflows WHERE workflow_id = $1", workflow_id
        )
        assert [a["name"] for a in data["assignees"]] == sent[workflow_id]


async def _at_least(pool: asyncpg.Pool, sql: str, expected: int) -> bool:
    return await _count(pool, sql) >= expected
