"""The services run as a role that owns no table (deploy/postgres/service-role.sql).

It can do everything a service does (start, apply commands and timers, relay events, fire
deadlines, record notices) and nothing an administrator of the tables could: it cannot disable
the append-only triggers, switch them off for its session, change or empty the history, or
write a checkpoint.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest

from services.bus.runner import running_bus
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.deadlines import fire_due_timers
from services.engine import apply
from services.notices import record_event
from services.relay import relay_once
from services.store import register_company
from services.store.canonical import canonical_json
from services.store.db import connect, migrate
from services.store.history import verify_chain
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, TimerMessage

GRANTS = Path(__file__).parents[2] / "deploy" / "postgres" / "service-role.sql"
NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}


@pytest.fixture
async def service_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool connected as a fresh role granted what the README's script grants."""
    role = f"ef_service_{uuid.uuid4().hex[:10]}"
    owner = await asyncpg.connect(fresh_database_url)
    try:
        await owner.execute(f'CREATE ROLE "{role}" LOGIN')
        await owner.execute(GRANTS.read_text().replace("equityflow_service", f'"{role}"'))
    finally:
        await owner.close()
    base, _, database = fresh_database_url.rpartition("/")
    scheme, _, host = base.partition("://")
    pool = await connect(f"{scheme}://{role}@{host.rpartition('@')[2]}/{database}")
    yield pool
    await pool.close()
    owner = await asyncpg.connect(fresh_database_url)
    try:
        await owner.execute(f'DROP OWNED BY "{role}"; DROP ROLE "{role}"')
    finally:
        await owner.close()


async def test_the_services_run_as_a_role_that_owns_no_table(
    service_pool: asyncpg.Pool, amqp_url: str, topology: Topology, catalog: TermsCatalog
) -> None:
    pool, company, workflow_id = service_pool, f"acme-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    assert await migrate(pool) == []  # starting runs no DDL once migrated
    await register_company(pool, company, "fmp-1998-nso")
    clock = SimulatedClock(pool)
    await clock.set(datetime(2026, 3, 2, 17, tzinfo=UTC))
    notice = dict(
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration={"form": "cash", "price_per_share": 2.5}, compliance_proof="opinion",
        notice=NOTICE,
    )  # fmt: skip
    started = await apply(
        pool,
        CommandMessage(
            message_id="m-1",
            company_id=company,
            workflow_id=workflow_id,
            workflow_type="rofr",
            command="deliver_transfer_notice",
            actor={"party": "owner"},
            payload=notice,
        ),
        clock,
        catalog,
    )
    assert started.status == "applied", started.refusal
    deadline_set = next(e for e in started.events if e["type"] == "deadline_set")
    assert await record_event(pool, clock, canonical_json(deadline_set).encode())

    await clock.advance(timedelta(days=400))
    async with running_bus(amqp_url, topology) as bus:
        assert await relay_once(pool, bus.publisher, topology) >= 1
        assert await fire_due_timers(pool, clock, bus.publisher, topology) >= 1
    timer = await pool.fetchrow(
        "SELECT * FROM timers WHERE workflow_id = $1 AND status = 'fired' LIMIT 1", workflow_id
    )
    fired = await apply(
        pool,
        TimerMessage(
            message_id=str(timer["timer_id"]),
            company_id=company,
            workflow_id=workflow_id,
            workflow_type="rofr",
            timer=timer["name"],
            due_at=timer["due_at"],
        ),
        clock,
        catalog,
    )
    assert fired.status == "applied" and fired.version == 2, fired
    assert (await verify_chain(pool, company_id=company)).ok

    for sql in (
        "ALTER TABLE history DISABLE TRIGGER history_append_only",
        "SET session_replication_role = replica",
        "UPDATE history SET state_to = 'lapsed'",
        "DELETE FROM history",
        "TRUNCATE history",
        "INSERT INTO checkpoints VALUES ('x', 1, '{}', 's', 'k', now())",
        "DROP TABLE checkpoints",
    ):
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await pool.execute(sql)
