"""An engine process killed with SIGKILL in the middle of a batch loses nothing and applies
nothing twice; the standby engine takes over with every workflow's commands in published order.

Two engine processes consume the engine queue, which has a single active consumer: the first
applies, the second stands by. Commands for many workflows are published back to back; once
the first engine has applied some of them, it is killed (no chance to ack what it applied, nor
to finish its batches). RabbitMQ hands its unacknowledged messages to the standby, at the head
of the queue and in order; the inbox answers those already committed as duplicates.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import aio_pika
import asyncpg
import pytest
from rofr_commands import NOW, disposition_notice, rofr_command

from services.bus.auth import amqp_user
from services.bus.runner import delete_topology
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.store.companies import register_company
from services.store.db import connect
from services.store.history import verify_chain
from workflows.messages import command_routing_key

COMPANY = "kill-co"
WORKFLOWS = 20
ASSIGNMENTS = 30


class Engines:
    """Engine processes (``equityflow serve engine``), each started once the one before it is
    ready, so the first is the queue's active consumer."""

    def __init__(self, env: dict[str, str], folder: Path) -> None:
        self.env, self.folder = env, folder
        self.processes: list[subprocess.Popen[bytes]] = []

    async def start(self) -> subprocess.Popen[bytes]:
        ready = self.folder / f"engine-{len(self.processes)}.ready"
        # Its log to a file: a pipe nobody reads fills up and stops the engine mid-write.
        log = self.folder / f"engine-{len(self.processes)}.log"
        with log.open("wb") as stderr:
            process = subprocess.Popen(  # noqa: ASYNC220  (started once, not awaited)
                [sys.executable, "-m", "services.cli", "serve", "engine"],
                env={**self.env, "EQUITYFLOW_READY_FILE": str(ready)},
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        self.processes.append(process)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300  # starting an interpreter on two busy cores can be slow
        while not ready.exists():
            if process.poll() is not None or loop.time() > deadline:
                raise AssertionError(f"the engine did not start: {log.read_text()[-2000:]}")
            await asyncio.sleep(0.05)
        return process

    def stop(self) -> None:
        for p in self.processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


@pytest.fixture
def engines(
    fresh_database_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> Iterator[Engines]:
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "AMQP_URL": amqp_url,
        "EQUITYFLOW_NAMESPACE": namespace,
        "EQUITYFLOW_SIMULATED_CLOCK": "true",
        "EQUITYFLOW_ENGINE_BATCH": "16",
    }
    running = Engines(env, tmp_path)
    yield running
    running.stop()
    asyncio.run(delete_topology(amqp_url, Topology(namespace)))


async def _history_rows(pool: asyncpg.Pool) -> int:
    return int(await pool.fetchval("SELECT count(*) FROM history"))


async def test_an_engine_killed_mid_batch_loses_nothing_and_applies_nothing_twice(
    engines: Engines, fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    pool = await connect(fresh_database_url)
    try:
        await register_company(pool, COMPANY, "fmp-1998-nso")
        await SimulatedClock(pool).set(NOW)
        first = await engines.start()
        await engines.start()  # the standby

        ids = [uuid.uuid4() for _ in range(WORKFLOWS)]
        messages = [disposition_notice(w, COMPANY) for w in ids]
        sent: dict[uuid.UUID, list[str]] = {w: [] for w in ids}
        for n in range(ASSIGNMENTS):
            for w in ids:
                sent[w].append(f"assignee {n:02d}")
                messages.append(
                    rofr_command(w, "assign_rofr", "company", COMPANY, assignee=sent[w][-1])
                )
        total = len(messages)
        connection = await aio_pika.connect(amqp_url)
        channel = await connection.channel()
        exchange = await channel.get_exchange(Topology(namespace).commands_exchange.name)
        for m in messages:
            await exchange.publish(
                aio_pika.Message(
                    m.model_dump_json().encode(),
                    message_id=m.message_id,
                    user_id=amqp_user(amqp_url),  # the services' user: trusted
                ),
                routing_key=command_routing_key("rofr", m.command),
            )
        await connection.close()

        # Kill the active engine once it has applied some, while it is still at work.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 300
        while (applied := await _history_rows(pool)) < total // 5:
            assert loop.time() < deadline, f"only {applied} of {total} applied"
            await asyncio.sleep(0.01)
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert applied < total, "the engine finished before it could be killed"

        while (applied := await _history_rows(pool)) < total:
            assert loop.time() < deadline, f"only {applied} of {total} applied"
            await asyncio.sleep(0.1)

        assert await _history_rows(pool) == total  # each message applied once
        inbox = await pool.fetchval("SELECT count(*) FROM inbox WHERE company_id = $1", COMPANY)
        assert inbox == total
        for w in ids:
            seqs = await pool.fetch(
                "SELECT seq FROM history WHERE workflow_id = $1 ORDER BY seq", w
            )
            assert [r["seq"] for r in seqs] == list(range(1, ASSIGNMENTS + 2))
            data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", w)
            assert [a["name"] for a in data["assignees"]] == sent[w]  # in published order
        assert (await verify_chain(pool, COMPANY)).ok
    finally:
        await pool.close()
