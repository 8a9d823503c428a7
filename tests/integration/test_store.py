"""Migrations and the deadline query, against the real PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.store.db import connect, migrate, migration_files
from services.store.queries import list_pending_deadlines, pending_deadlines_query

T0 = datetime(2026, 3, 2, 8, tzinfo=UTC)


async def test_migrate_applies_each_file_once_even_when_replicas_start_together(
    fresh_database_url: str,
) -> None:
    pools = [await connect(fresh_database_url, max_size=2) for _ in range(4)]
    try:
        await pools[0].execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        results = await asyncio.gather(*(migrate(p) for p in pools))
        names = [p.stem for p in migration_files()]
        assert sorted(results, key=len) == [[], [], [], names]
        assert await migrate(pools[0]) == []
        recorded = await pools[0].fetch("SELECT name FROM schema_migrations ORDER BY name")
        assert [r["name"] for r in recorded] == names
    finally:
        for p in pools:
            await p.close()


async def test_json_columns_take_and_return_python_values(pool: asyncpg.Pool) -> None:
    value = await pool.fetchval("SELECT $1::jsonb", {"shares": 100, "holders": ["a", None]})
    assert value == {"shares": 100, "holders": ["a", None]}


async def _seed_timers(pool: asyncpg.Pool, company: str, count: int) -> uuid.UUID:
    """One workflow with ``count`` timers (a third for the owner), ten of them cancelled."""
    workflow_id = uuid.uuid4()
    await pool.execute(
        "INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, state, "
        "data, version, final, head_hash, created_at, updated_at) "
        "VALUES ($1, $2, 'rofr', 't', '{}', 's', '{}', 1, false, '', $3, $3)",
        workflow_id,
        company,
        T0,
    )
    await pool.execute(
        "INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, "
        "party, action, clause, derivation, deadline, status) "
        "SELECT gen_random_uuid(), $1, $2, 'rofr', 't' || i, "
        "$3::timestamptz + (i % 500) * interval '1 hour', "
        "CASE WHEN i % 3 = 0 THEN 'owner' ELSE 'company' END, 'act', 'FMP §6(d)(iii)', 'd', '{}', "
        "CASE WHEN i <= 10 THEN 'cancelled' ELSE 'pending' END "
        "FROM generate_series(1, $4) AS i",
        workflow_id,
        company,
        T0,
        count,
    )
    await pool.execute("ANALYZE timers")
    return workflow_id


async def _all_pages(pool: asyncpg.Pool, company: str, **filters: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    after = None
    while True:
        page = await list_pending_deadlines(pool, company, after=after, limit=97, **filters)
        rows.extend(page)
        if len(page) < 97:
            return rows
        after = (page[-1]["due_at"], page[-1]["timer_id"])


async def test_pending_deadlines_page_by_due_time_within_one_company(
    fresh_database_url: str,
) -> None:
    pool = await connect(fresh_database_url)
    try:
        mine = await _seed_timers(pool, "acme", 1000)
        await _seed_timers(pool, "globex", 1000)
        rows = await _all_pages(pool, "acme")
        assert len(rows) == 990  # the ten cancelled are not pending
        assert {r["workflow_id"] for r in rows} == {mine}
        keys = [(r["due_at"], r["timer_id"]) for r in rows]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        owners = await _all_pages(pool, "acme", party="owner")
        assert len(owners) == 333 - 3 and {r["party"] for r in owners} == {"owner"}
        assert await list_pending_deadlines(pool, "initech") == []
    finally:
        await pool.close()


async def test_a_deep_page_of_deadlines_is_an_index_range_scan(fresh_database_url: str) -> None:
    pool = await connect(fresh_database_url)
    try:
        await _seed_timers(pool, "acme", 20_000)
        await _seed_timers(pool, "globex", 20_000)
        deep = (T0 + timedelta(hours=400), uuid.UUID(int=0))
        for after, party in [(None, None), (deep, None), (deep, "owner")]:
            sql, args = pending_deadlines_query("acme", after=after, limit=50, party=party)
            plan = await pool.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
            nodes = _nodes(plan[0]["Plan"])
            types = {n["Node Type"] for n in nodes}
            assert "Seq Scan" not in types and "Sort" not in types, types
            scans = [n for n in nodes if n["Node Type"] in {"Index Scan", "Index Only Scan"}]
            assert scans and scans[0]["Index Name"].startswith("timers_")
            if after is not None:  # the scan starts at the keyset position: no offset walked
                assert "due_at" in scans[0].get("Index Cond", ""), scans[0]
    finally:
        await pool.close()


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(n for child in plan.get("Plans", []) for n in _nodes(child))]
