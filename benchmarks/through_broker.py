"""Through the broker: commands over RabbitMQ, applied by engine processes, events relayed.

R engine replicas and one relay run as deployed (``equityflow serve engine`` and ``equityflow
serve relay``, processes of their own, on a namespace of their own). N ROFR Disposition Notices
are published (with publisher confirms, as an integration would), then N exercises. Each phase
is timed until the engine's inbox has recorded all its commands, and until the relay has
published every event they wrote (the outbox has no unsent row left). Then pgbench (TPC-B) runs
on the same server for as long, and the ratio is printed.

    uv run python benchmarks/through_broker.py --size 20000 --replicas 2
"""

from __future__ import annotations

import asyncio
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from deployed import served, until
from harness import (
    arguments,
    delivered,
    disposition_notice,
    exercise,
    figure,
    load_average,
    machine_context,
    register_companies,
    run_parsed,
    say,
    scratch_database,
    scratch_namespace,
    server_amqp_url,
    unique_name,
    workflow_id,
)
from pgbench import pgbench_arguments, pgbench_ratio

COMPANIES = ("acme", "globex", "initech", "umbrella")
PHASES = (("start", disposition_notice), ("exercise", exercise))
IN_FLIGHT = 500  # publishes awaiting their confirms at once
SENT = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"


async def publish_all(bus: Any, messages: list[Any]) -> None:
    for low in range(0, len(messages), IN_FLIGHT):
        await asyncio.gather(*(bus.send_command(m) for m in messages[low : low + IN_FLIGHT]))


async def measure(url: str, namespace: str, args: Any) -> float:
    """Both phases; returns the seconds until everything was applied and published."""
    from services.bus.runner import running_bus
    from services.bus.topology import Topology
    from services.store.db import connect

    salt = unique_name("broker")
    # Delivered an hour ago by the system clock the services read: inside the election window.
    notice = delivered(datetime.now(UTC) - timedelta(hours=1))
    services = ["engine"] * args.replicas + ["relay"]
    pool = await connect(url, max_size=2)
    total = 0.0
    try:
        async with (
            served(url, namespace, services, relay_batch=args.batch, poll_interval=0.1),
            running_bus(server_amqp_url(), Topology(namespace)) as bus,
        ):
            recorded = relayed_before = 0
            for phase, make in PHASES:
                messages = [
                    make(COMPANIES[i % len(COMPANIES)], workflow_id(salt, i), notice)
                    for i in range(args.size)
                ]
                say(f"{phase}: {args.size} commands to {args.replicas} engine replicas")
                began = time.perf_counter()
                await publish_all(bus, messages)
                published = time.perf_counter() - began
                recorded += len(messages)
                await until(pool, "SELECT count(*) FROM inbox", recorded, "recorded")
                applied = time.perf_counter() - began
                events = await pool.fetchval("SELECT count(*) FROM outbox")
                await until(pool, SENT, events, "events published")
                relayed = time.perf_counter() - began
                total += relayed
                figure(f"{phase}_published_per_second", args.size / published, "/s")
                figure(f"{phase}_seconds_until_all_applied", applied, "s")
                figure(f"{phase}_commands_per_second", args.size / applied, "/s")
                figure(f"{phase}_seconds_until_all_events_published", relayed, "s")
                figure(f"{phase}_events", events - relayed_before)
                relayed_before = events
        rows = await pool.fetch("SELECT outcome, count(*) AS n FROM inbox GROUP BY outcome")
        outcomes = {r["outcome"]: r["n"] for r in rows}
        say(f"inbox outcomes: {outcomes}")
        figure("applied", outcomes.get("applied", 0))
        if outcomes.get("applied", 0) != len(PHASES) * args.size:
            sys.exit(1)
    finally:
        await pool.close()
    figure("commands_per_second", len(PHASES) * args.size / total, "/s")
    return total


async def main(args: Any) -> None:
    from services.store.db import connect

    say(f"load average: {load_average()}")
    async with scratch_database() as url, scratch_namespace() as namespace:
        await machine_context(url, with_broker=True)
        pool = await connect(url, max_size=1)
        try:
            await register_companies(pool, COMPANIES)
        finally:
            await pool.close()
        seconds = await measure(url, namespace, args)
    # Transitions (one per command) per second, until the last event was published.
    await pgbench_ratio("transitions", len(PHASES) * args.size / seconds, seconds, args)
    say(f"load average: {load_average()}")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=10_000,
    replicas=(int, 2, "engine replica processes"),
    batch=(int, 1000, "the relay's batch (EQUITYFLOW_RELAY_BATCH)"),
)
pgbench_arguments(parser)

if __name__ == "__main__":
    run_parsed(main, parser)
