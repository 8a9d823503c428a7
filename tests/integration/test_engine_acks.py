"""The engine acknowledges what it committed in runs, one ack for many messages
(``services.bus.acks``), and still leaves nothing unacknowledged: a run of commands ends with
the queues empty and nothing applied twice, and a message held for its retry does not stop the
messages after it, which are applied and acknowledged while it waits.

What RabbitMQ holds unacknowledged is read with ``rabbitmqctl list_queues``: it is what comes
back, as a duplicate, if the engine dies.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import uuid

import asyncpg
import pytest
from rofr_commands import COMPANY, NOW, disposition_notice, rofr_command

from services.bus.consumers import engine_consumer
from services.bus.runner import Bus, delete_topology, running_bus
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.engine import apply
from services.store import register_company
from services.terms_catalog import TermsCatalog
from tests.conftest import IN_CI

WORKFLOWS = 8
ASSIGNMENTS = 25  # per workflow


@pytest.fixture(autouse=True)
def rabbitmqctl() -> None:
    if shutil.which("rabbitmqctl") is None:
        message = "rabbitmqctl is not on PATH: these tests read what RabbitMQ holds unacked"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)


async def _queued(namespace: str) -> tuple[int, int]:
    """(ready, unacknowledged) messages over the namespace's queues, as RabbitMQ counts them."""
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", "list_queues", "--quiet", "--no-table-headers",
        "name", "messages_ready", "messages_unacknowledged",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await process.communicate()
    assert process.returncode == 0, err
    ready = unacked = 0
    for line in out.decode().splitlines():
        name, r, u = line.split()
        if name.startswith(f"{namespace}.engine"):
            ready, unacked = ready + int(r), unacked + int(u)
    return ready, unacked


async def _started(pool: asyncpg.Pool, clock: SimulatedClock, count: int) -> list[uuid.UUID]:
    catalog = TermsCatalog()
    await clock.set(NOW)
    await register_company(pool, COMPANY, "fmp-1998-nso", "FMP")
    ids = [uuid.uuid4() for _ in range(count)]
    for workflow_id in ids:
        assert (
            await apply(pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"
    return ids


async def _assign(
    bus: Bus, workflow_id: uuid.UUID, assignee: str, sent: dict[uuid.UUID, list[str]]
) -> None:
    """FMP §16(c): accepted again and again while the election is open, each appended to
    ``data["assignees"]``: the data shows what was applied, in the order applied."""
    sent[workflow_id].append(assignee)
    await bus.send_command(rofr_command(workflow_id, "assign_rofr", "company", assignee=assignee))


async def _assignees(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[str]:
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", workflow_id)
    return [a["name"] for a in data.get("assignees", [])]


async def _applied_once_each(pool: asyncpg.Pool, sent: dict[uuid.UUID, list[str]]) -> bool:
    for workflow_id, assignees in sent.items():
        if await _assignees(pool, workflow_id) != assignees:
            return False
    return True


async def test_a_run_of_commands_is_applied_once_each_and_acknowledged_in_a_few_acks(
    fresh_pool: asyncpg.Pool, amqp_url: str, namespace: str, caplog: pytest.LogCaptureFixture
) -> None:
    pool = fresh_pool  # a database of its own: every history row is this test's
    caplog.set_level(logging.DEBUG, logger="services.bus.acks")
    topology, clock = Topology(namespace), SimulatedClock(pool)
    ids = await _started(pool, clock, WORKFLOWS)
    sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
    try:
        async with running_bus(amqp_url, topology) as bus:  # queued before the engine starts
            for n in range(ASSIGNMENTS):
                for workflow_id in ids:
                    await _assign(bus, workflow_id, f"assignee {n:02d}", sent)
        engine = engine_consumer(pool, clock, TermsCatalog())
        async with running_bus(amqp_url, topology, [engine]):
            await eventually(lambda: _applied_once_each(pool, sent), within=120)
            # Acknowledged while the engine runs, not only when it hands its queues back.
            await eventually(lambda: _nothing_held(namespace), within=60)
    finally:
        await delete_topology(amqp_url, topology)

    commands = WORKFLOWS * ASSIGNMENTS
    history = await pool.fetchval("SELECT count(*) FROM history WHERE seq > 1")
    assert history == commands  # nothing applied twice
    acks = [r.args for r in caplog.records if r.getMessage().startswith("acknowledged ")]
    assert sum(a[0] for a in acks) == commands  # type: ignore[index]  # (deliveries, tag, multiple)
    assert len(acks) <= commands / 4, f"{len(acks)} acks for {commands} commands"


async def _nothing_held(namespace: str) -> bool:
    return await _queued(namespace) == (0, 0)


HOLD = """
CREATE TABLE held (workflow_id uuid PRIMARY KEY);
CREATE FUNCTION held_back() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM held WHERE workflow_id = NEW.workflow_id) THEN
    RAISE EXCEPTION 'workflow % is held by the test', NEW.workflow_id;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER held_back BEFORE INSERT ON history FOR EACH ROW EXECUTE FUNCTION held_back();
"""


async def test_a_message_held_for_its_retry_lets_the_later_ones_be_applied_and_acknowledged(
    fresh_pool: asyncpg.Pool, amqp_url: str, namespace: str
) -> None:
    pool = fresh_pool  # a database of its own: the test adds a trigger to history
    # One shard: the held message and the others come on one channel, with a small prefetch
    # (16 for batches of 4): committed messages waiting behind the held one would fill it.
    topology, clock = Topology(namespace, engine_shards=1), SimulatedClock(pool)
    held, *others = await _started(pool, clock, 5)
    await pool.execute(HOLD)  # every transition of ``held`` fails, as if the server had gone
    await pool.execute("INSERT INTO held VALUES ($1)", held)
    engine = engine_consumer(pool, clock, TermsCatalog(), batch_size=4, retry_delay=0.05)
    sent: dict[uuid.UUID, list[str]] = {w: [] for w in others}
    try:
        async with running_bus(amqp_url, topology, [engine]) as bus:
            await bus.send_command(rofr_command(held, "assign_rofr", "company", assignee="first"))
            for n in range(15):  # 60: far more than the prefetch
                for workflow_id in others:
                    await _assign(bus, workflow_id, f"assignee {n:02d}", sent)
            await eventually(lambda: _applied_once_each(pool, sent), within=60)
            # Only the held message is still unacknowledged, waiting for its retry.
            await eventually(lambda: _holding_one(namespace), within=60)
            assert await _assignees(pool, held) == []
            await pool.execute("DELETE FROM held")
            await eventually(lambda: _applied_once_each(pool, {held: ["first"]}), within=90)
            await eventually(lambda: _nothing_held(namespace), within=60)
    finally:
        await delete_topology(amqp_url, topology)
    assert await _applied_once_each(pool, sent)


async def _holding_one(namespace: str) -> bool:
    return await _queued(namespace) == (0, 1)
