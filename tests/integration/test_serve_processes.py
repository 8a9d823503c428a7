"""Scale-out as deployed: every service its own process, two engines (each queue applied by one
of them, the other standing by) and two deadlines services.

Commands go in over RabbitMQ (each published three times), timers fire when the shared simulated
clock passes them, and every workflow ends exactly as the clauses say, with one history row per
step and an intact hash chain.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import aio_pika
import asyncpg
import pytest

from services.bus.auth import amqp_user
from services.bus.runner import delete_topology
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.store.companies import register_company
from services.store.history import verify_chain
from workflows.kernel import Party
from workflows.messages import ActorIn, CommandMessage, command_routing_key

PT = ZoneInfo("America/Los_Angeles")
WORKFLOWS = 12
ENGINES = 2
SERVICES = ["engine"] * ENGINES + ["deadlines", "deadlines", "relay", "notices"]


@pytest.fixture
def services(
    fresh_database_url: str, amqp_url: str, namespace: str, tmp_path: Path
) -> Iterator[list[subprocess.Popen[bytes]]]:
    env = {
        **os.environ,
        "DATABASE_URL": fresh_database_url,
        "AMQP_URL": amqp_url,
        "EQUITYFLOW_NAMESPACE": namespace,
        "EQUITYFLOW_SIMULATED_CLOCK": "true",
        "EQUITYFLOW_POLL_INTERVAL": "0.1",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            # each keeps a ready file once connected and consuming
            env={**env, "EQUITYFLOW_READY_FILE": str(tmp_path / f"{n}.ready")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for n, name in enumerate(SERVICES)
    ]
    yield procs
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    asyncio.run(delete_topology(amqp_url, Topology(namespace)))


async def _states(pool: asyncpg.Pool, company: str) -> dict[str, int]:
    rows = await pool.fetch(
        "SELECT state, count(*) AS n FROM workflows WHERE company_id = $1 GROUP BY state", company
    )
    return {r["state"]: r["n"] for r in rows}


async def _until(pool: asyncpg.Pool, company: str, state: str, within: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while (await _states(pool, company)).get(state) != WORKFLOWS:
        if loop.time() > deadline:
            raise AssertionError(f"not all in {state}: {await _states(pool, company)}")
        await asyncio.sleep(0.1)


def _notice(company: str, workflow_id: uuid.UUID, n: int) -> CommandMessage:
    return CommandMessage(
        message_id=f"notice-{workflow_id}",
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        command="deliver_disposition_notice",
        actor=ActorIn(party=Party.OWNER, name=f"holder-{n}"),
        payload={
            "holder": f"holder-{n}",
            "shares": 100 + n,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "counsel's letter",
            "notice": {"method": "personal", "delivered_at": "2026-03-02T10:00:00-08:00"},
        },
    )


def _ready_files(folder: Path) -> int:
    return len(list(folder.glob("*.ready")))


async def _all_ready(services: list[subprocess.Popen[bytes]], ready_dir: Path) -> None:
    """Every service connected and consuming (each keeps its ready file), however loaded the
    machine is: starting six interpreters at once can take minutes on two busy cores."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 300
    while _ready_files(ready_dir) < len(services):
        exited = [p.stderr.read().decode()[-2000:] for p in services if p.poll() is not None]
        if exited or loop.time() > deadline:
            raise AssertionError(f"services did not start: {exited}")
        await asyncio.sleep(0.1)


async def test_separate_service_processes_run_rofr_windows_to_the_end(
    services: list[subprocess.Popen[bytes]],
    fresh_database_url: str,
    amqp_url: str,
    namespace: str,
    tmp_path: Path,
) -> None:
    from services.store.db import connect

    pool = await connect(fresh_database_url)
    company = "scale-out-co"
    try:
        await register_company(pool, company, "fmp-1998-nso")
        clock = SimulatedClock(pool)
        await clock.set(datetime(2026, 3, 2, 12, tzinfo=PT))
        topology = Topology(namespace)
        # Publish only once both engines consume: until the engine queue and its bindings are
        # declared, a command published to the exchange would be unroutable and dropped.
        await _all_ready(services, tmp_path)
        connection = await aio_pika.connect(amqp_url)
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.engine_queue.name, passive=True)
        # The engine's intake (what an integration's three-word keys reach) has a single active
        # consumer: of the engines' subscriptions (one each), RabbitMQ counts the one it
        # delivers to; the other stands by (docs/design.md, "Batches and order").
        assert queue.declaration_result.consumer_count == 1
        exchange = await channel.get_exchange(topology.commands_exchange.name)

        ids = [uuid.uuid4() for _ in range(WORKFLOWS)]
        for n, workflow_id in enumerate(ids):
            message = _notice(company, workflow_id, n)
            for _ in range(3):  # every command delivered three times
                await exchange.publish(
                    aio_pika.Message(
                        message.model_dump_json().encode(),
                        message_id=message.message_id,
                        user_id=amqp_user(amqp_url),  # the services' user (guest): trusted
                    ),
                    routing_key=command_routing_key("rofr", message.command),
                )
        await connection.close()
        await _until(pool, company, "election_window")

        # FMP §6(d)(iii): the election window ends 2026-04-01 23:59 PT; §6(d)(iv) then 30 days.
        await clock.set(datetime(2026, 4, 2, 0, 1, tzinfo=PT))
        await _until(pool, company, "owner_sale_window")
        await clock.set(datetime(2026, 5, 2, 0, 1, tzinfo=PT))
        await _until(pool, company, "rofr_reattached")

        versions = await pool.fetch("SELECT version FROM workflows WHERE company_id = $1", company)
        assert {r["version"] for r in versions} == {3}  # notice, two timers: nothing twice
        timers = await pool.fetch(
            "SELECT name, status FROM timers WHERE company_id = $1 AND status <> 'cancelled'",
            company,
        )
        assert sorted({t["name"] for t in timers}) == ["election_deadline", "sale_window_end"]
        assert len(timers) == 2 * WORKFLOWS
        assert (await verify_chain(pool, company_id=company)).ok
        for p in services:
            assert p.poll() is None, p.stderr.read().decode()[-2000:] if p.stderr else ""
    finally:
        await pool.close()
