"""The composition root: settings → the database, clock, terms catalog, topology, and the bus
services with their publisher, built in one place and handed to the thin handlers.

    async with bootstrap(settings, services=BUS_SERVICES) as rt:
        app = create_app(rt)          # the HTTP API reads rt through FastAPI dependencies

Every entry point builds its parts here: ``equityflow up`` and ``serve <service>``
(``services.processes``), the demo, the operator's commands and the tests. Nothing is built at
import time, and no part lives in a module's globals, so two containers (two tests, two demo
stories) never share one by accident.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from dataclasses import replace

import asyncpg

from services.bus.serve import bus_services
from services.bus.topology import Topology
from services.clock import Clock, SimulatedClock, SystemClock
from services.connections import postgres_unreachable, until_connected
from services.embedded_postgres import start_embedded_postgres
from services.runtime import Runtime
from services.settings import Settings
from services.store.db import connect, migrate
from services.terms_catalog import TermsCatalog


@asynccontextmanager
async def bootstrap(
    settings: Settings, *, services: Collection[str] = (), namespace: str | None = None
) -> AsyncIterator[Runtime]:
    """Build every part ``settings`` names, and run the bus ``services`` until the block ends.

    The database is the one at ``DATABASE_URL`` (else the embedded PostgreSQL, stopped on the
    way out), reached with back-off and migrated; the terms catalog is read and validated
    whole; ``namespace`` (default ``settings.namespace``) prefixes the RabbitMQ topology.
    """
    async with database_url(settings) as url:
        pool = await until_connected("PostgreSQL", lambda: connect(url), postgres_unreachable)
        try:
            await migrate(pool)  # on start, as well as by `equityflow migrate`
            rt = Runtime(
                settings=settings,
                database_url=url,
                pool=pool,
                clock=clock_of(settings, pool),
                catalog=TermsCatalog(list(settings.terms_dirs)),
                topology=Topology(
                    namespace or settings.namespace, engine_shards=settings.engine_shards
                ),
            )
            if services:
                async with start_services(rt, services) as running:
                    yield running
            else:
                yield rt
        finally:
            await close_pool(pool)


@asynccontextmanager
async def start_services(rt: Runtime, services: Collection[str]) -> AsyncIterator[Runtime]:
    """Run the bus ``services`` (``services.bus.serve.BUS_SERVICES``) on ``rt``'s parts until
    the block ends; the container it yields holds the bus and its publisher."""
    async with bus_services(rt, services) as bus:
        yield replace(rt, bus=bus)


@asynccontextmanager
async def database_url(settings: Settings) -> AsyncIterator[str]:
    """``DATABASE_URL``; unset, the embedded PostgreSQL's, stopped when the block ends (unless
    another process still uses it)."""
    if settings.database_url is not None:
        yield settings.database_url
        return
    embedded = await start_embedded_postgres(settings.data_dir)
    try:
        yield embedded.url
    finally:
        await embedded.stop()


@asynccontextmanager
async def database_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the database, as it is: not migrated, nothing else built (``migrate``,
    ``verify`` and ``checkpoint`` need only this)."""
    async with database_url(settings) as url:
        pool = await connect(url)
        try:
            yield pool
        finally:
            await close_pool(pool)


def clock_of(settings: Settings, pool: asyncpg.Pool) -> Clock:
    """The system clock; in demo and test mode the simulated one, shared through the database."""
    return SimulatedClock(pool) if settings.simulated_clock else SystemClock()


async def close_pool(pool: asyncpg.Pool, within: float = 5.0) -> None:
    """Close gracefully, but never hang on a server that went away: terminate after ``within``."""
    try:
        await asyncio.wait_for(pool.close(), within)
    except TimeoutError:
        pool.terminate()
