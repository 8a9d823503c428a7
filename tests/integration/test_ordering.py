"""Commands for one workflow, published back to back over RabbitMQ, apply in the order sent.

The engine consumer applies many messages at once, in batches (across workflows); for one
workflow it applies them in arrival order, also when one fails and is tried again.
``assign_rofr`` (FMP §16(c)) is accepted again and again while the election is open and appends
each assignee to ``data["assignees"]``, so the order of the data is the order applied in.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import asyncpg
from rofr_commands import COMPANY, NOW, disposition_notice, rofr_command

from services.bus.consumers import engine_consumer
from services.bus.runner import running_bus
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.engine import apply
from services.engine.turns import InArrivalOrder
from services.store import register_company
from services.terms_catalog import TermsCatalog

WORKFLOWS = 3
ASSIGNMENTS = 40  # per workflow: more than the consumer's unacknowledged-message window


async def _applied(pool: asyncpg.Pool) -> bool:
    versions = await pool.fetch("SELECT version FROM workflows")
    return len(versions) == WORKFLOWS and all(r["version"] == ASSIGNMENTS + 1 for r in versions)


async def test_commands_for_one_workflow_apply_in_the_order_published(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso", "FMP")
    ids = [uuid.uuid4() for _ in range(WORKFLOWS)]
    for workflow_id in ids:
        assert (
            await apply(fresh_pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"

    sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
    async with running_bus(
        amqp_url, topology, [engine_consumer(fresh_pool, clock, catalog)]
    ) as bus:
        for n in range(ASSIGNMENTS):
            for workflow_id in ids:  # interleaved: the workflows still run side by side
                assignee = f"assignee {n:02d} of {workflow_id}"
                sent[workflow_id].append(assignee)
                await bus.send_command(
                    rofr_command(workflow_id, "assign_rofr", "company", assignee=assignee)
                )
        await eventually(lambda: _applied(fresh_pool), within=60)

    for workflow_id in ids:
        history = await fresh_pool.fetch(
            "SELECT message->'payload'->>'assignee' AS assignee FROM history "
            "WHERE workflow_id = $1 AND seq > 1 ORDER BY seq",
            workflow_id,
        )
        assert [h["assignee"] for h in history] == sent[workflow_id]
        data = await fresh_pool.fetchval(
            "SELECT data FROM workflows WHERE workflow_id = $1", workflow_id
        )
        assert [a["name"] for a in data["assignees"]] == sent[workflow_id]


async def test_one_key_waits_its_turn_while_others_go_on_and_idle_keys_are_forgotten() -> None:
    order, log, held = InArrivalOrder(), [], asyncio.Event()

    async def handle(key: str, n: int) -> None:
        async with order.turn(key):
            log.append(f"{key}{n}")
            if key == "a":
                await held.wait()

    tasks = {key: [asyncio.create_task(handle(key, n)) for n in range(3)] for key in "ab"}
    await asyncio.wait_for(asyncio.gather(*tasks["b"]), 10)  # "b" is not held up by "a"
    assert log == ["a0", "b0", "b1", "b2"]  # and "a" waits its turn
    assert len(order) == 1  # "b" is idle: forgotten
    held.set()
    await asyncio.gather(*tasks["a"])
    assert [e for e in log if e[0] == "a"] == ["a0", "a1", "a2"]
    assert len(order) == 0


class FlakyPool:
    """The engine's pool, but every ``every``-th connection it asks for fails as if the server
    had gone away: a transient error, so the message is tried again."""

    def __init__(self, pool: asyncpg.Pool, every: int) -> None:
        self.pool, self.every, self.asked, self.failed = pool, every, 0, 0

    def acquire(self) -> Any:
        self.asked += 1
        if self.asked % self.every == 0:
            self.failed += 1
            raise ConnectionResetError("the server closed the connection")
        return self.pool.acquire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def test_commands_retried_after_a_transient_error_still_apply_in_the_order_published(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    clock, catalog = SimulatedClock(fresh_pool), TermsCatalog()
    await clock.set(NOW)
    await register_company(fresh_pool, COMPANY, "fmp-1998-nso")
    ids = [uuid.uuid4() for _ in range(WORKFLOWS)]
    for workflow_id in ids:
        assert (
            await apply(fresh_pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"

    flaky = FlakyPool(fresh_pool, every=3)
    consumer = engine_consumer(flaky, clock, catalog, retry_delay=0.01, batch_size=8)  # type: ignore[arg-type]
    sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        for n in range(ASSIGNMENTS):
            for workflow_id in ids:
                assignee = f"assignee {n:02d} of {workflow_id}"
                sent[workflow_id].append(assignee)
                await bus.send_command(
                    rofr_command(workflow_id, "assign_rofr", "company", assignee=assignee)
                )
        await eventually(lambda: _applied(fresh_pool), within=120)

    assert flaky.failed > 0  # messages did fail and were tried again
    for workflow_id in ids:
        data = await fresh_pool.fetchval(
            "SELECT data FROM workflows WHERE workflow_id = $1", workflow_id
        )
        assert [a["name"] for a in data["assignees"]] == sent[workflow_id]
