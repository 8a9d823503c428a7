"""Connection pool and schema migrations.

JSON and JSONB columns take and return Python dicts and lists. Migrations are the ``*.sql``
files next to this module, applied once each in name order and recorded in
``schema_migrations``; an advisory lock lets several replicas start at the same time. When
every migration is applied, starting runs no DDL: services may connect as a role that owns no
table (README, "Audit trail"), and ``equityflow migrate`` runs as the owner.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import asyncpg
import asyncpg.pool
import orjson

#: A connection as the store's functions take it: one of a pool's (what ``pool.acquire()``
#: yields, a proxy of the connection it holds) or one made on its own.
Connection = asyncpg.Connection | asyncpg.pool.PoolConnectionProxy

MIGRATIONS = Path(__file__).parent / "migrations"
# Any fixed 64-bit key: every process that migrates takes the same session-level lock.
_MIGRATION_LOCK = 0x6571_7569_7479_666C


# Nineteen digits in a row, once every digit is mapped to "0" and every other byte to a space:
# a number orjson might read otherwise than ``json`` (below).
_DIGITS_ONLY = bytes(0x30 if 0x30 <= b <= 0x39 else 0x20 for b in range(256))
_NINETEEN_DIGITS = b"0" * 19


def decode_json(text: str) -> Any:
    """``json.loads(text)``, about twice as fast: orjson reads what it reads alike.

    orjson reads an integer past 64 bits as a float (JSONB prints ``1e100`` as a 101-digit
    integer, which ``json`` reads as that integer), so a text with a run of nineteen digits,
    in a number or anywhere else, is read by ``json``: every integer of eighteen digits or
    fewer is within 64 bits, and ``-9223372036854775809``, of nineteen, is not.
    What orjson refuses (a lone surrogate, a number past the float range, which ``json``
    reads as an infinity) is read by ``json`` too. Floats read alike: both round correctly.
    """
    data = text.encode("utf-8", "surrogatepass")  # PostgreSQL sends none; orjson refuses one
    if _NINETEEN_DIGITS not in data.translate(_DIGITS_ONLY):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


async def _init_connection(connection: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(
            kind, schema="pg_catalog", encoder=json.dumps, decoder=decode_json, format="text"
        )


# Set while a connection is held by ``transactions_only``: its release skips the reset query.
_TRANSACTIONS_ONLY: ContextVar[bool] = ContextVar("transactions_only", default=False)


async def _reset_session(connection: asyncpg.Connection) -> None:
    """What the pool does to a connection given back, once asyncpg has rolled back any
    transaction left open and dropped its listeners: the reset query, which releases session
    advisory locks and closes cursors, unlistens and resets settings (a round trip of four
    statements); not for a connection that ran transactions only (``transactions_only``)."""
    if _TRANSACTIONS_ONLY.get():
        return
    query = connection.get_reset_query()
    if query:
        await connection.execute(query)


@asynccontextmanager
async def transactions_only(pool: asyncpg.Pool) -> AsyncIterator[Connection]:
    """A connection of ``pool`` for a caller that changes no session state: it runs statements
    in transactions only, takes transaction-scoped advisory locks only, and sets, listens,
    declares a cursor or takes a session lock never. A transaction's end undoes all it did to
    the session, so its release skips the reset query (the engine saves a round trip a batch).
    The flag lives in the task's context: the release, a task of its own, copies it."""
    token = _TRANSACTIONS_ONLY.set(True)
    try:
        async with pool.acquire() as connection:
            yield connection
    finally:
        _TRANSACTIONS_ONLY.reset(token)


async def connect(url: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        url, min_size=min_size, max_size=max_size, init=_init_connection, reset=_reset_session
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
