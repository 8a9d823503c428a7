"""The bus services of one process: ``equityflow up`` runs all four, ``serve <name>`` one.

    async with bus_services(runtime, BUS_SERVICES) as bus:
        ...  # the HTTP API, or wait for a signal; leaving the block stops them

``engine`` and ``notices`` are consumers of their queues; ``relay`` and ``deadlines`` are polling
loops. Each may run as any number of replicas against the same RabbitMQ and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Collection, Coroutine
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from services.bus.backlog import QueueBacklog
from services.bus.consumers import Consumer, engine_consumer, notices_consumer
from services.bus.runner import Bus, running_bus
from services.deadlines import run_deadlines
from services.relay import run_relay

if TYPE_CHECKING:
    from services.runtime import Runtime

log = logging.getLogger(__name__)

BUS_SERVICES = ("engine", "notices", "relay", "deadlines")


@asynccontextmanager
async def bus_services(rt: Runtime, names: Collection[str] = BUS_SERVICES) -> AsyncIterator[Bus]:
    """Run the named bus services until the block ends; yields the bus (to send commands)."""
    unknown = set(names) - set(BUS_SERVICES)
    if unknown:
        raise ValueError(f"unknown bus services: {', '.join(sorted(unknown))}")
    settings = rt.settings
    if settings.amqp_url is None and set(names) != set(BUS_SERVICES):
        log.warning("no AMQP_URL: the in-memory broker reaches only services in this process")
    consumers: list[Consumer] = []
    if "engine" in names:
        consumers.append(
            engine_consumer(
                rt.pool,
                rt.clock,
                rt.catalog,
                batch_size=settings.engine_batch,
                in_flight=settings.engine_batches_in_flight,
                max_bytes=settings.max_message_bytes,
            )
        )
    if "notices" in names:
        consumers.append(notices_consumer(rt.pool, rt.clock, max_bytes=settings.max_message_bytes))
    async with running_bus(
        settings.amqp_url, rt.topology, consumers, service_users=settings.service_users
    ) as bus:
        loops: list[Coroutine[Any, Any, None]] = []
        interval, batch = settings.poll_interval, settings.batch_size
        # What waits in the engine queues: a timer's copy may, so it is not fired again yet.
        backlog = (
            QueueBacklog(settings.amqp_url, *(q.name for q in rt.topology.engine_queues))
            if settings.amqp_url and "deadlines" in names
            else None
        )
        if "relay" in names:
            loops.append(
                run_relay(
                    rt.pool,
                    bus.publisher,
                    rt.topology,
                    poll_interval=interval,
                    batch_size=settings.relay_batch,
                )
            )
        if "deadlines" in names:
            loops.append(
                run_deadlines(
                    rt.pool,
                    rt.clock,
                    bus.publisher,
                    rt.topology,
                    poll_interval=interval,
                    batch_size=batch,
                    redelivery_grace=timedelta(seconds=settings.timer_redelivery_grace),
                    engine_backlog=backlog,
                )
            )
        tasks = [asyncio.create_task(loop) for loop in loops]
        try:
            yield bus
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if backlog is not None:
                await backlog.close()
