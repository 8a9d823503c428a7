"""The composition root: settings → database, clock, terms catalog, topology.

Every entry point (``up``, ``serve``, ``demo``, the tests) builds its parts here, so the wiring
lives in one place and the handlers stay thin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg

from services.bus.topology import Topology
from services.clock import Clock, SimulatedClock, SystemClock
from services.connections import postgres_unreachable, until_connected
from services.embedded_postgres import start_embedded_postgres, stop_embedded_postgres
from services.settings import Settings
from services.store.db import connect, migrate
from services.terms_catalog import TermsCatalog


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    database_url: str
    pool: asyncpg.Pool
    clock: Clock
    catalog: TermsCatalog
    topology: Topology


async def resolve_database_url(settings: Settings) -> str:
    return settings.database_url or await start_embedded_postgres(settings.data_dir)


@asynccontextmanager
async def open_runtime(
    settings: Settings, *, namespace: str | None = None
) -> AsyncIterator[Runtime]:
    url = await resolve_database_url(settings)
    try:
        pool = await until_connected("PostgreSQL", lambda: connect(url), postgres_unreachable)
        try:
            await migrate(pool)  # on start, as well as by `equityflow migrate`
            clock: Clock = SimulatedClock(pool) if settings.simulated_clock else SystemClock()
            yield Runtime(
                settings=settings,
                database_url=url,
                pool=pool,
                clock=clock,
                catalog=TermsCatalog(list(settings.terms_dirs)),
                topology=Topology(namespace or settings.namespace),
            )
        finally:
            await close_pool(pool)
    finally:
        if settings.database_url is None:
            await stop_embedded_postgres(settings.data_dir)


async def close_pool(pool: asyncpg.Pool, within: float = 5.0) -> None:
    """Close gracefully, but never hang on a server that went away: terminate after ``within``."""
    try:
        await asyncio.wait_for(pool.close(), within)
    except TimeoutError:
        pool.terminate()
