"""Through the broker: commands published to RabbitMQ, applied by engine replicas, end to end.

R engine replicas (processes, each ``running_bus`` with ``engine_consumer`` and a pool of its
own, as ``equityflow serve engine`` runs) consume the engine queue of a namespace of their own.
N ROFR Disposition Notices are published (with publisher confirms, as an integration would),
and the clock runs until the engine's inbox has recorded all of them; then N exercises, the
same way. The relay is not running: events stay in the outbox.

    uv run python benchmarks/through_broker.py --size 20000 --replicas 2
"""

from __future__ import annotations

import asyncio
import multiprocessing
import sys
import time
from typing import Any

from harness import (
    FixedClock,
    arguments,
    disposition_notice,
    exercise,
    figure,
    machine_context,
    quiet_logs,
    register_companies,
    run,
    say,
    scratch_database,
    scratch_namespace,
    server_amqp_url,
    unique_name,
    workflow_id,
)

COMPANIES = ("acme", "globex", "initech", "umbrella")
PHASES = (("start", disposition_notice), ("exercise", exercise))
IN_FLIGHT = 500  # publishes awaiting their confirms at once


def engine_replica(url: str, namespace: str, pool_size: int, ready: Any, stop: Any) -> None:
    quiet_logs()
    asyncio.run(_engine_replica(url, namespace, pool_size, ready, stop))


async def _engine_replica(url: str, namespace: str, pool_size: int, ready: Any, stop: Any) -> None:
    from services.bus import Topology, engine_consumer, running_bus
    from services.store.db import connect
    from services.terms_catalog import TermsCatalog

    pool = await connect(url, max_size=pool_size)
    try:
        consumer = engine_consumer(pool, FixedClock(), TermsCatalog())
        async with running_bus(server_amqp_url(), Topology(namespace), [consumer]):
            ready.release()
            await asyncio.to_thread(stop.wait)
    finally:
        await pool.close()


async def publish_all(bus: Any, messages: list[Any]) -> None:
    for low in range(0, len(messages), IN_FLIGHT):
        await asyncio.gather(*(bus.send_command(m) for m in messages[low : low + IN_FLIGHT]))


async def wait_until_recorded(pool: Any, count: int, began: float) -> None:
    last_report = time.perf_counter()
    while (done := await pool.fetchval("SELECT count(*) FROM inbox")) < count:
        if time.perf_counter() - last_report >= 5:
            last_report = time.perf_counter()
            say(f"  … {done}/{count} recorded ({done / (last_report - began):,.0f}/s)")
        await asyncio.sleep(0.05)


async def measure(url: str, namespace: str, args: Any) -> None:
    from services.bus import Topology, running_bus
    from services.store.db import connect

    context = multiprocessing.get_context("spawn")
    ready, stop = context.Semaphore(0), context.Event()
    replicas = [
        context.Process(target=engine_replica, args=(url, namespace, args.pool_size, ready, stop))
        for _ in range(args.replicas)
    ]
    for p in replicas:
        p.start()
    pool = await connect(url, max_size=2)
    salt = unique_name("broker")
    try:
        for _ in replicas:
            if not await asyncio.to_thread(ready.acquire, True, 60):
                raise RuntimeError("an engine replica did not start within 60 s")
        async with running_bus(server_amqp_url(), Topology(namespace)) as bus:
            recorded = 0
            for phase, make in PHASES:
                messages = [
                    make(COMPANIES[i % len(COMPANIES)], workflow_id(salt, i))
                    for i in range(args.size)
                ]
                say(f"{phase}: {args.size} commands to {args.replicas} engine replicas")
                began = time.perf_counter()
                await publish_all(bus, messages)
                published = time.perf_counter() - began
                recorded += len(messages)
                await wait_until_recorded(pool, recorded, began)
                applied = time.perf_counter() - began
                figure(f"{phase}_published_per_second", args.size / published, "/s")
                figure(f"{phase}_seconds_until_all_applied", applied, "s")
                figure(f"{phase}_commands_per_second", args.size / applied, "/s")
        rows = await pool.fetch("SELECT outcome, count(*) AS n FROM inbox GROUP BY outcome")
        outcomes = {r["outcome"]: r["n"] for r in rows}
        say(f"inbox outcomes: {outcomes}")
        figure("applied", outcomes.get("applied", 0))
        if outcomes.get("applied", 0) != len(PHASES) * args.size:
            sys.exit(1)
    finally:
        stop.set()
        await pool.close()
        for p in replicas:
            await asyncio.to_thread(p.join, 30)
            if p.is_alive():
                p.kill()


async def main() -> None:
    from services.store.db import connect

    args = parser.parse_args()
    async with scratch_database() as url, scratch_namespace() as namespace:
        await machine_context(url, with_broker=True)
        pool = await connect(url, max_size=1)
        try:
            await register_companies(pool, COMPANIES)
        finally:
            await pool.close()
        await measure(url, namespace, args)


parser = arguments(
    __doc__.split("\n")[0],
    default_size=10_000,
    replicas=(int, 2, "engine replica processes"),
    pool_size=(int, 10, "connections per replica (the service's default pool)"),
)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
