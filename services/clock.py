"""The Clock port. Nothing else in equityflow reads the system time.

Production uses the system clock. Demo and test mode use a simulated clock stored as one row in
PostgreSQL, so that every process (engine, deadlines, API) sees the same time and a 90-day window
can be walked through in a second by advancing it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

import asyncpg


class Clock(Protocol):
    async def now(self) -> datetime: ...


class SystemClock:
    async def now(self) -> datetime:
        return datetime.now(UTC)


class SimulatedClock:
    """Reads the shared simulated time; starts at the real time the first time it is used."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    async def now(self) -> datetime:
        row = await self._pool.fetchval("SELECT now FROM sim_clock")
        if row is None:
            return await self.set(datetime.now(UTC))
        return row  # type: ignore[no-any-return]

    async def started(self) -> datetime | None:
        """The simulated time, or None if no simulated clock has run on this database."""
        return await self._pool.fetchval("SELECT now FROM sim_clock")  # type: ignore[no-any-return]

    async def set(self, when: datetime) -> datetime:
        if when.tzinfo is None:
            raise ValueError("the simulated clock needs an aware datetime")
        return await self._pool.fetchval(  # type: ignore[no-any-return]
            "INSERT INTO sim_clock (id, now) VALUES (true, $1) "
            "ON CONFLICT (id) DO UPDATE SET now = EXCLUDED.now RETURNING now",
            when,
        )

    async def advance(self, by: timedelta) -> datetime:
        if by < timedelta(0):
            raise ValueError("the simulated clock never goes backwards")
        current = await self.now()
        return await self.set(current + by)
