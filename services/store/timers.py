"""The deadlines service's SQL: claim due timers, mark them fired; claim and mark re-fires.

Each claim is one statement that reads the clock and locks its batch (``FOR UPDATE SKIP
LOCKED``, so replicas take disjoint batches). With the simulated clock the time is read from
``sim_clock`` *in that statement*, in the snapshot that claims the rows: a claim never fires a
timer by an instant the clock has since left (the demo turns the clock back for each story).
Every claimed row carries that instant as ``now``; the caller marks with it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from services.store.db import Connection

# $1: the system clock's reading (the simulated clock's too, before its first setting);
# $2: whether the clock is the simulated one. Uncorrelated, so evaluated once per statement.
_NOW = (
    "(SELECT CASE WHEN $2::boolean THEN coalesce((SELECT now FROM sim_clock), $1::timestamptz) "
    "ELSE $1::timestamptz END)"
)
_COLUMNS = "timer_id, workflow_id, company_id, workflow_type, name, due_at, fired_at, refires"

_CLAIM_DUE = f"""
SELECT {_COLUMNS}, refire_at, {_NOW} AS now FROM timers
WHERE status = 'pending' AND due_at <= {_NOW}
ORDER BY due_at, timer_id LIMIT $3 FOR UPDATE SKIP LOCKED
"""
_MARK_FIRED = """
UPDATE timers SET status = 'fired', fired_at = $2, refire_at = $2::timestamptz + $3::interval
WHERE timer_id = ANY($1::uuid[]) AND status = 'pending'
"""
# Served by the partial index timers_fired_unapplied: only fired, unapplied timers are read.
_CLAIM_UNAPPLIED = f"""
SELECT {_COLUMNS}, refire_at, {_NOW} AS now FROM timers
WHERE status = 'fired' AND refire_at <= {_NOW}
ORDER BY refire_at, timer_id LIMIT $3 FOR UPDATE SKIP LOCKED
"""
_MARK_REFIRED = """
UPDATE timers SET refires = refires + 1, refire_at = $2::timestamptz
    + LEAST($3::interval * power(2, LEAST(refires + 1, 30)), $4::interval)
WHERE timer_id = ANY($1::uuid[]) AND status = 'fired'
"""
_MAKE_UNAPPLIED_DUE = f"""
UPDATE timers SET refire_at = {_NOW} WHERE status = 'fired' AND refire_at > {_NOW}
"""


async def claim_due(
    connection: Connection, reading: datetime, simulated: bool, limit: int
) -> list[asyncpg.Record]:
    """Lock up to ``limit`` pending timers due by the clock's now, earliest first."""
    return list(await connection.fetch(_CLAIM_DUE, reading, simulated, limit))


async def mark_fired(
    connection: Connection, ids: Sequence[UUID], now: datetime, grace: timedelta
) -> None:
    """Their messages are confirmed: fired at ``now``, re-fired after ``grace`` if unapplied."""
    await connection.execute(_MARK_FIRED, list(ids), now, grace)


async def claim_unapplied(
    connection: Connection, reading: datetime, simulated: bool, limit: int
) -> list[asyncpg.Record]:
    """Lock up to ``limit`` fired, unapplied timers past their re-fire time, oldest first."""
    return list(await connection.fetch(_CLAIM_UNAPPLIED, reading, simulated, limit))


async def mark_refired(
    connection: Connection,
    ids: Sequence[UUID],
    now: datetime,
    grace: timedelta,
    ceiling: timedelta,
) -> None:
    """Fired again at ``now``: counted, and the wait before the next re-fire doubled."""
    await connection.execute(_MARK_REFIRED, list(ids), now, grace, ceiling)


async def make_unapplied_due(pool: asyncpg.Pool, reading: datetime, simulated: bool) -> int:
    """Every fired, unapplied timer is due for a re-fire now; how many were not yet."""
    done = await pool.execute(_MAKE_UNAPPLIED_DUE, reading, simulated)
    return int(done.split()[-1])
