"""The deadlines service's SQL: fire due timers; claim and mark re-fires.

Each claim is one statement that reads the clock and locks its batch (``FOR UPDATE SKIP
LOCKED``, so replicas take disjoint batches). With the simulated clock the time is read from
``sim_clock`` *in that statement*, in the snapshot that claims the rows: a claim never fires a
timer by an instant the clock has since left (the demo turns the clock back for each story).
Every claimed row carries that instant as ``now``.

Due timers are claimed and marked fired by that one statement (``fire_due``), in the
transaction that publishes their messages: nearly every message is confirmed, so marking first
and putting back the few that were not (``unfire``, before the commit) costs one statement a
batch instead of two. Re-fires, rare, are claimed first and marked once confirmed.
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

# Locks the earliest due pending timers and marks them fired at the clock's now, with what
# they held before (``was_*``) for ``unfire``. RETURNING keeps no order: the caller sorts.
_FIRE_DUE = f"""
WITH clock AS MATERIALIZED (SELECT {_NOW} AS now), due AS (
  SELECT timer_id, fired_at, refire_at FROM timers
  WHERE status = 'pending' AND due_at <= (SELECT now FROM clock)
  ORDER BY due_at, timer_id LIMIT $3 FOR UPDATE SKIP LOCKED
)
UPDATE timers t SET status = 'fired', fired_at = clock.now, refire_at = clock.now + $4::interval
FROM due, clock
WHERE t.timer_id = due.timer_id
RETURNING t.timer_id, t.workflow_id, t.company_id, t.workflow_type, t.name, t.due_at,
          due.fired_at AS was_fired_at, due.refire_at AS was_refire_at, clock.now
"""
_UNFIRE = """
UPDATE timers t SET status = 'pending', fired_at = u.fired_at, refire_at = u.refire_at
FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS u(timer_id, fired_at, refire_at)
WHERE t.timer_id = u.timer_id AND t.status = 'fired'
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


async def fire_due(
    connection: Connection, reading: datetime, simulated: bool, limit: int, grace: timedelta
) -> list[asyncpg.Record]:
    """Lock up to ``limit`` pending timers due by the clock's now and mark them fired at that
    now, re-fired after ``grace`` if unapplied; earliest first (by due time, then id)."""
    rows = await connection.fetch(_FIRE_DUE, reading, simulated, limit, grace)
    return sorted(rows, key=lambda r: (r["due_at"], r["timer_id"]))


async def unfire(connection: Connection, rows: Sequence[asyncpg.Record]) -> None:
    """Put timers ``fire_due`` marked back as they were (pending): their messages were not
    confirmed. In the transaction that fired them, so no other replica saw them fired."""
    await connection.execute(
        _UNFIRE,
        [r["timer_id"] for r in rows],
        [r["was_fired_at"] for r in rows],
        [r["was_refire_at"] for r in rows],
    )


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
