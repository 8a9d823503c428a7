"""Migration 0003 splits the inbox into commands and timers, on a database already in use.

Before it, a command carrying a timer's id made the timer's message a "duplicate": the timer
was marked applied and its deadline never took effect. The migration files each recorded message
under its kind and fires such a swallowed timer again.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest

from services.store.db import connect, migrate, migration_files

NOW = datetime(2026, 4, 2, 17, tzinfo=UTC)


@pytest.fixture
async def pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A database as it was before 0003: the earlier migrations only, and then some data."""
    admin = await asyncpg.connect(fresh_database_url)
    try:
        await admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        earlier = [p for p in migration_files() if p.stem < "0003"]
        await admin.execute(
            "CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz "
            "NOT NULL DEFAULT now())"
        )
        for path in earlier:
            await admin.execute(path.read_text())
            await admin.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.stem)
    finally:
        await admin.close()
    p = await connect(fresh_database_url)
    yield p
    await p.close()


async def _workflow(pool: asyncpg.Pool) -> uuid.UUID:
    workflow_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, state, "
        "data, version, final, head_hash, created_at, updated_at) "
        "VALUES ($1, 'fmp', 'rofr', 'fmp-1998-nso', '{}', 'election_window', '{}', 2, false, "
        "'h', $2, $2)",
        workflow_id,
        NOW,
    )
    return workflow_id


async def _applied_timer(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> uuid.UUID:
    timer_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, "
        "party, action, clause, derivation, deadline, status, fired_at, applied_at) "
        "VALUES ($1, $2, 'fmp', 'rofr', 'election_deadline', $3, 'company', 'exercise_rofr', "
        "'FMP §6(d)(iii)', 'd', '{}', 'applied', $3, $3)",
        timer_id,
        workflow_id,
        NOW,
    )
    return timer_id


async def _recorded(
    pool: asyncpg.Pool, message_id: str, workflow_id: uuid.UUID, outcome: str
) -> None:
    await pool.execute(
        "INSERT INTO inbox (company_id, message_id, workflow_id, outcome, received_at) "
        "VALUES ('fmp', $1, $2, $3, $4)",
        message_id,
        workflow_id,
        outcome,
        NOW,
    )


async def test_a_timer_swallowed_by_a_command_is_fired_again_and_applied_ones_stay(
    pool: asyncpg.Pool,
) -> None:
    swallowed_in = await _workflow(pool)
    swallowed = await _applied_timer(pool, swallowed_in)
    # A command (to another workflow, refused) had carried the timer's id.
    await _recorded(pool, str(swallowed), uuid.uuid4(), "refused")

    applied_in = await _workflow(pool)
    applied = await _applied_timer(pool, applied_in)
    await _recorded(pool, str(applied), applied_in, "applied")
    await pool.execute(
        "INSERT INTO history (workflow_id, seq, company_id, message_id, message, state_to, "
        "events, applied_at, prev_hash, hash) "
        "VALUES ($1, 2, 'fmp', $2, $3, 'owner_sale_window', '[]', $4, 'a', 'b')",
        applied_in,
        str(applied),
        {"kind": "timer", "message_id": str(applied)},
        NOW,
    )

    assert (await migrate(pool))[0] == "0003_inbox_kinds"  # and any later ones

    kinds = dict(await pool.fetch("SELECT message_id, kind FROM inbox"))
    assert kinds == {str(swallowed): "command", str(applied): "timer"}
    status = dict(await pool.fetch("SELECT timer_id, status FROM timers"))
    assert status == {swallowed: "fired", applied: "applied"}
    due_again = await pool.fetchval(
        "SELECT refire_at <= $2 FROM timers WHERE timer_id = $1", swallowed, NOW
    )
    assert due_again  # the deadlines service fires it again on its next pass


async def test_a_swallowed_timer_already_replaced_by_a_later_one_is_not_fired_again(
    pool: asyncpg.Pool,
) -> None:
    workflow_id = await _workflow(pool)
    old = await _applied_timer(pool, workflow_id)
    await _recorded(pool, str(old), uuid.uuid4(), "refused")  # swallowed by a command
    # A resubmitted notice set the same deadline again: the later row is the one in force.
    await pool.execute(
        "UPDATE timers SET created_at = now() - interval '1 day' WHERE timer_id = $1", old
    )
    new = uuid.uuid4()
    await pool.execute(
        "INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, "
        "party, action, clause, derivation, deadline) "
        "VALUES ($1, $2, 'fmp', 'rofr', 'election_deadline', $3, 'company', 'exercise_rofr', "
        "'FMP §6(d)(iii)', 'd', '{}')",
        new,
        workflow_id,
        NOW,
    )

    assert (await migrate(pool))[0] == "0003_inbox_kinds"  # and any later ones

    status = dict(await pool.fetch("SELECT timer_id, status FROM timers"))
    assert status == {old: "applied", new: "pending"}  # the old date never takes effect
