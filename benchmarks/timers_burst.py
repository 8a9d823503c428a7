"""Timers burst: N deadlines fall due at once and two deadlines replicas fire them to RabbitMQ.

N timer rows (each in a workflow of its own, rows as the engine writes them) are bulk-inserted,
all due. Two ``fire_due_timers`` loops — two replicas, each with its own pool and broker
connection — claim them with ``FOR UPDATE SKIP LOCKED`` and publish one timer message each with
publisher confirms. A consumer of the engine queue counts what arrives and checks that every
timer id arrived exactly once (ROADMAP item 5: 100,000 timers due at once fired within 30 s).

    uv run python benchmarks/timers_burst.py --size 100000
"""

from __future__ import annotations

import asyncio
import collections
import sys
import time
from datetime import timedelta
from typing import Any

from harness import (
    NOW,
    FixedClock,
    arguments,
    clone_deadlines,
    figure,
    machine_context,
    quiet_logs,
    register_companies,
    run,
    say,
    scratch_database,
    scratch_namespace,
    server_amqp_url,
    template_workflow,
)

COMPANIES = ("acme", "globex", "initech", "umbrella")


class Arrivals:
    """Counts the timer messages that reach the engine queue, by message id."""

    def __init__(self, expected: int) -> None:
        self.counts: collections.Counter[str] = collections.Counter()
        self.total = 0
        self.last_at = 0.0
        self.expected = expected
        self.all_arrived = asyncio.Event()

    async def on_message(self, message: Any) -> None:
        self.counts[message.message_id or ""] += 1
        self.total += 1
        self.last_at = time.perf_counter()
        if self.total >= self.expected:
            self.all_arrived.set()


async def fire_until_done(
    url: str, amqp_url: str, topology: Any, batch_size: int, fired: list[int]
) -> None:
    """One deadlines replica: its own pool and broker connection, firing until nothing is due."""
    from services.bus import running_bus
    from services.deadlines import fire_due_timers
    from services.store.db import connect

    pool = await connect(url, max_size=2)
    clock = FixedClock()
    try:
        async with running_bus(amqp_url, topology) as bus:
            while n := await fire_due_timers(pool, clock, bus.publisher, topology, batch_size):
                fired[0] += n
    finally:
        await pool.close()


async def main() -> None:
    import aio_pika

    from services.bus import Topology, running_bus
    from services.store.db import connect

    args = parser.parse_args()
    amqp_url = server_amqp_url()
    async with scratch_database() as url, scratch_namespace() as namespace:
        await machine_context(url, with_broker=True)
        topology = Topology(namespace)
        pool = await connect(url, max_size=2)
        try:
            await register_companies(pool, (*COMPANIES, "template"))
            template = await template_workflow(pool, "template")
            began = time.perf_counter()
            inserted = await clone_deadlines(
                pool, template, count=args.size, companies=COMPANIES, parties=("company",),
                first_due=NOW - timedelta(days=1), spacing_seconds=0.0001,
            )  # fmt: skip
            await pool.execute("ANALYZE timers")
            say(f"inserted {inserted} due timers in {time.perf_counter() - began:.1f} s")
            expected = {
                str(r["timer_id"])
                for r in await pool.fetch(
                    "SELECT timer_id FROM timers WHERE status = 'pending' AND due_at <= $1", NOW
                )
            }
        finally:
            await pool.close()

        arrivals = Arrivals(len(expected))
        async with running_bus(amqp_url, topology):  # declares the namespace's topology
            pass
        connection = await aio_pika.connect(amqp_url, timeout=10)
        try:
            channel = await connection.channel()
            queue = await channel.get_queue(topology.engine_queue.name)
            await queue.consume(arrivals.on_message, no_ack=True)
            fired = [0]
            say(f"firing {len(expected)} timers: {args.replicas} replicas, batch {args.batch}")
            began = time.perf_counter()
            loops = [
                asyncio.create_task(fire_until_done(url, amqp_url, topology, args.batch, fired))
                for _ in range(args.replicas)
            ]
            reporter = asyncio.create_task(_progress(fired, arrivals, len(expected)))
            await asyncio.gather(*loops)
            all_fired = time.perf_counter() - began
            async with asyncio.timeout(args.arrival_grace):
                await arrivals.all_arrived.wait()
            await asyncio.sleep(0.5)  # a duplicate would arrive now, if there were one
            reporter.cancel()
            all_arrived = arrivals.last_at - began
        finally:
            await connection.close()

        pool = await connect(url, max_size=1)
        try:
            rows = await pool.fetch("SELECT status, count(*) AS n FROM timers GROUP BY status")
            status = {r["status"]: r["n"] for r in rows}
        finally:
            await pool.close()

    received = set(arrivals.counts)
    twice = sum(1 for c in arrivals.counts.values() if c > 1)
    missing, unexpected = len(expected - received), len(received - expected)
    say(f"timers by status afterwards: {status}")
    figure("timers", len(expected))
    figure("seconds_to_fire_all", all_fired, "s")
    figure("seconds_until_all_arrived", all_arrived, "s")
    figure("messages_per_second", len(expected) / all_arrived, "/s")
    figure("arrived_exactly_once", len(expected) - missing - twice)
    figure("missing", missing)
    figure("duplicates", twice)
    figure("unexpected", unexpected)
    say("  (ROADMAP item 5 target: 100,000 due timers fired within 30 s)")
    if missing or twice or unexpected:
        sys.exit(1)


async def _progress(fired: list[int], arrivals: Arrivals, total: int) -> None:
    began = time.perf_counter()
    while True:
        await asyncio.sleep(5)
        rate = arrivals.total / (time.perf_counter() - began)
        say(f"  … fired {fired[0]}/{total}, arrived {arrivals.total} ({rate:,.0f}/s)")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=100_000,
    replicas=(int, 2, "concurrent fire_due_timers loops (deadlines replicas)"),
    batch=(int, 100, "timers claimed per transaction (the service's batch_size)"),
    arrival_grace=(float, 120.0, "seconds to wait for the last messages after firing"),
)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
