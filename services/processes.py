"""What ``equityflow up`` and ``equityflow serve <service>`` run.

``up`` runs every service in one process: the engine and notices consumers, the outbox relay, the
deadlines service and the HTTP API. ``serve`` runs one of them, for compose and scale-out; every
service is stateless, so any number of replicas may run against one PostgreSQL and RabbitMQ.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Collection, Iterator
from pathlib import Path

import uvicorn

from services.api.app import create_app
from services.bootstrap import bootstrap
from services.bus.asyncapi import asyncapi_document
from services.bus.serve import BUS_SERVICES
from services.gc_tuning import tune_after_start
from services.local_admin import ensure_local_admin_key
from services.readiness import Readiness, keep_ready_file
from services.runtime import Runtime
from services.settings import Settings

log = logging.getLogger("equityflow")


async def run_all(settings: Settings) -> None:
    await _run(settings, BUS_SERVICES, with_api=True)


async def run_one(settings: Settings, service: str) -> None:
    if service != "api" and (settings.database_url is None or settings.amqp_url is None):
        raise SystemExit(
            f"equityflow serve {service} needs DATABASE_URL and AMQP_URL: a lone service cannot "
            "share an embedded database or an in-memory broker (use `equityflow up` for that)"
        )
    if service == "api":
        await _run(settings, (), with_api=True)
    else:
        await _run(settings, (service,), with_api=False)


async def _run(settings: Settings, services: Collection[str], *, with_api: bool) -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        async with bootstrap(settings, services=services) as rt:
            tune_after_start()
            _announce(rt, services, with_api)
            if with_api:
                await _announce_admin_key(rt)
            async with _ready_file(rt.readiness, settings.ready_file):
                await _serve_api(rt) if with_api else await _until_signalled()
    finally:
        _ignore_signals_from_now_on()


def _ignore_signals_from_now_on() -> None:
    """Everything is stopped, the embedded PostgreSQL too: the process only exits now.

    Closing the event loop would hand SIGINT back to Python's default (an exception wherever
    the interpreter happens to be); a signal that arrives late must not turn a clean stop into
    a traceback or a death by signal.
    """
    if threading.current_thread() is not threading.main_thread():
        return  # signals are the main thread's: an embedding caller keeps its own handling
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.remove_signal_handler(sig)
        signal.signal(sig, signal.SIG_IGN)


@contextlib.asynccontextmanager
async def _ready_file(readiness: Readiness, path: Path | None) -> AsyncIterator[None]:
    if path is None:
        yield
        return
    keeper = asyncio.create_task(keep_ready_file(readiness, path))
    try:
        yield
    finally:
        keeper.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await keeper


class _Server(uvicorn.Server):
    """Stops on SIGINT/SIGTERM without re-raising the signal, so shutdown runs to its end.

    uvicorn re-sends the signal to itself after its graceful shutdown; under SIGTERM (what
    `docker stop` and service managers send) that killed the process before the embedded
    PostgreSQL was stopped and before the bus services drained.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.handle_exit, sig, None)
        try:
            yield
        finally:
            # Shutdown has begun: a second Ctrl-C (or the signal sent to the process group
            # again, as some launchers do) must not interrupt it halfway with a traceback.
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, _already_stopping, sig)


def _already_stopping(sig: signal.Signals) -> None:
    log.info("%s: already stopping", sig.name)


async def _serve_api(rt: Runtime) -> None:
    app = create_app(rt, asyncapi=asyncapi_document(rt.topology))
    config = uvicorn.Config(
        app, host=rt.settings.http_host, port=rt.settings.http_port, log_level="info"
    )
    await _Server(config).serve()  # returns on SIGINT/SIGTERM


async def _until_signalled() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


def _announce(rt: Runtime, services: Collection[str], with_api: bool) -> None:
    s = rt.settings
    database = (
        "embedded PostgreSQL in " + str(s.data_dir / "postgres")
        if not s.database_url
        else "DATABASE_URL"
    )
    broker = "RabbitMQ at AMQP_URL" if s.amqp_url else "in-memory broker (this process only)"
    parts = list(services) + (["api"] if with_api else [])
    log.info("equityflow: %s on %s, %s", ", ".join(parts), database, broker)
    log.info(
        "clock: %s",
        "simulated (advance with POST /api/v1/clock/advance)" if s.simulated_clock else "system",
    )
    if with_api:
        log.info(
            "API on http://%s:%d (OpenAPI /docs, AsyncAPI /asyncapi.json)", s.http_host, s.http_port
        )


async def _announce_admin_key(rt: Runtime) -> None:
    """On the embedded default, make sure a local admin key exists and say where (not what)."""
    if rt.settings.database_url is not None:
        log.info("API keys: create them with `equityflow keys create` (none is made here)")
        return
    path, created = await ensure_local_admin_key(rt.pool, rt.settings.data_dir)
    state = "created the local admin key" if created else "local admin key"
    log.info(
        '%s in %s (owner-only); send it as -H "Authorization: Bearer $(cat %s)"',
        state,
        path,
        path,
    )
