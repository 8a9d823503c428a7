"""Connection pool and schema migrations.

JSON and JSONB columns take and return Python dicts and lists. Migrations are the ``*.sql``
files next to this module, applied once each in name order and recorded in
``schema_migrations``; an advisory lock lets several replicas start at the same time. When
every migration is applied, starting runs no DDL: services may connect as a role that owns no
table (README, "Audit trail"), and ``equityflow migrate`` runs as the owner.
"""

from __future__ import annotations

import json
from pathlib import Path

import asyncpg
import asyncpg.pool

#: A connection as the store's functions take it: one of a pool's (what ``pool.acquire()``
#: yields, a proxy of the connection it holds) or one made on its own.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed 64-bit key: every process that migrates takes the same session-level lock.
_MIGRATION_LOCK = 0x6571_7569_7479_666C


async def _init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(
            kind, schema="pg_catalog", encoder=json.dumps, decoder=json.loads, format="text"
        )


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection
    )
    assert pool is not None
    return pool


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql"), key=lambda p: p.name)


async def _pending(pool: asyncpg.Pool) -> bool:
    """Is any migration not applied yet? Read-only, so a role without DDL rights may ask."""
    if await pool.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return True
    done = {r["name"] for r in await pool.fetch("SELECT name FROM schema_migrations")}
    return any(path.stem not in done for path in migration_files())


async def migrate(pool: asyncpg.Pool) -> list[str]:
    """Apply the migrations not applied yet; return their names (empty when up to date)."""
    applied: list[str] = []
    if not await _pending(pool):
        return applied  # no DDL at all: a service role that owns no table starts as well
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
        try:
            await connection.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["name"] for r in await connection.fetch("SELECT name FROM schema_migrations")}
            for path in migration_files():
                if path.stem in done:
                    continue
                async with connection.transaction():
                    await connection.execute(path.read_text())
                    await connection.execute(
                        "INSERT INTO schema_migrations (name) VALUES ($1)", path.stem
                    )
                applied.append(path.stem)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)
    return applied
