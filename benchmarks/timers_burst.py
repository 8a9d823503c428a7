"""Timers burst: N deadlines fall due at once; two deadlines services fire them, engines apply them.

Two deadlines replicas and R engine replicas run as deployed (``equityflow serve deadlines`` and
``equityflow serve engine``, processes of their own, system clock, a namespace of their own).
Once they are ready, N ROFR workflows with one due election deadline each (rows copied from a
ROFR the engine started, pinned terms included) are committed in one transaction: all due at
that instant. The deadlines services claim them (``FOR UPDATE SKIP LOCKED``) and publish them
in batches with confirms; the engines apply them. The clock runs until the engine has applied
every timer, then checks that each was applied exactly once (ROADMAP item 5: 100,000 due timers
applied within 60 s), and pgbench (TPC-B) runs on the same server for as long.

    uv run python benchmarks/timers_burst.py --size 100000
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from deployed import served, until
from harness import (
    arguments,
    clone_deadlines,
    delivered,
    disposition_notice,
    figure,
    load_average,
    machine_context,
    quiet_logs,
    register_companies,
    run,
    say,
    scratch_database,
    scratch_namespace,
    server_amqp_url,
)
from pgbench import pgbench_arguments, pgbench_ratio

from services.bus.consumers import DEFAULT_ENGINE_BATCH

COMPANIES = ("acme", "globex", "initech", "umbrella")
TEMPLATE = "template"  # the company of the one workflow the clones copy
CLONES = f"company_id <> '{TEMPLATE}'"
# The burst's timers are due by $1 (those the transitions set are due weeks later). Whether one
# is left to fire, or to apply, is probed through the partial indexes of pending and of fired
# timers in their order (the first live entry answers), cheap at any size: counting the table
# on every poll took more of the database's CPU than the deadlines services' claims did.
FIRST_UNFIRED = (
    "(SELECT timer_id FROM timers WHERE status = 'pending' AND due_at <= $1 ORDER BY due_at "
    "LIMIT 1)"
)
FIRST_UNAPPLIED = "(SELECT timer_id FROM timers WHERE status = 'fired' ORDER BY refire_at LIMIT 1)"
ALL_FIRED = f"SELECT {FIRST_UNFIRED} IS NULL"
ALL_APPLIED = f"SELECT {FIRST_UNFIRED} IS NULL AND {FIRST_UNAPPLIED} IS NULL"
# For the progress lines only, every few seconds.
APPLIED = f"SELECT count(*) FROM timers WHERE {CLONES} AND status = 'applied'"


async def until_done(
    pool: Any, done: str, last_due: datetime, *, progress: int = 0, interval: float = 0.2
) -> float:
    """Seconds until ``done`` holds, polled every ``interval``; with ``progress`` (the count of
    timers), how many are applied is printed every 5 s."""
    began = last = time.perf_counter()
    while not await pool.fetchval(done, last_due):
        if progress and (now := time.perf_counter()) - last >= 5.0:
            last, applied = now, await pool.fetchval(APPLIED)
            say(f"  … applied: {applied}/{progress} ({applied / (now - began):,.0f}/s)")
        await asyncio.sleep(interval)
    return time.perf_counter() - began


async def start_template(url: str, namespace: str) -> uuid.UUID:
    """One real ROFR, started through RabbitMQ by the running engine: the rows to copy."""
    from services.bus.runner import running_bus
    from services.bus.topology import Topology
    from services.store.db import connect

    template = uuid.uuid4()
    # An hour ago by the system clock: its election deadline (copied, not due) is weeks away.
    notice = disposition_notice(
        TEMPLATE, template, delivered(datetime.now(UTC) - timedelta(hours=1))
    )
    async with running_bus(server_amqp_url(), Topology(namespace)) as bus:
        await bus.send_command(notice)
    pool = await connect(url, max_size=1)
    try:
        await until(pool, "SELECT count(*) FROM workflows WHERE workflow_id = $1", 1, "template",
                    template)  # fmt: skip
    finally:
        await pool.close()
    return template


async def measure(url: str, namespace: str, args: Any) -> tuple[int, float]:
    """The burst: (timers, seconds until the engine applied the last one)."""
    from services.store.db import connect

    services = ["engine"] * args.replicas + ["deadlines"] * 2
    pool = await connect(url, max_size=2)
    try:
        async with served(
            url, namespace, services, batch_size=args.batch, poll_interval=0.1,
            timer_redelivery_grace=args.redelivery_grace, engine_batch=args.engine_batch,
        ):  # fmt: skip
            template = await start_template(url, namespace)
            version = await pool.fetchval(
                "SELECT version FROM workflows WHERE workflow_id = $1", template
            )
            say(f"inserting {args.size} due timers in one transaction")
            first_due = datetime.now(UTC) - timedelta(days=1)
            count = await clone_deadlines(
                pool, template, count=args.size, companies=COMPANIES, parties=("company",),
                first_due=first_due, spacing_seconds=0.0001,
                chunk=args.size, applicable=True,
            )  # fmt: skip
            say(f"{count} due timers committed")  # all due at once, from now
            # The last is due a day after the first at most: after it, every one is due.
            last_due = first_due + timedelta(days=1)
            fired = asyncio.create_task(until_done(pool, ALL_FIRED, last_due))
            applied = await until_done(pool, ALL_APPLIED, last_due, progress=count)
            figure("timers", count)
            figure("seconds_to_fire_all", await fired, "s")
            figure("seconds_until_all_applied", applied, "s")
            figure("timers_applied_per_second", count / applied, "/s")
        await check_exactly_once(pool, count, version)
    finally:
        await pool.close()
    return count, applied


async def check_exactly_once(pool: Any, count: int, version: int) -> None:
    """Every timer applied once: one inbox record, one history row, one version step each."""
    history = await pool.fetchrow(
        f"SELECT count(*) AS n, count(DISTINCT workflow_id) AS w FROM history WHERE {CLONES}"
    )
    inbox = await pool.fetchval(f"SELECT count(*) FROM inbox WHERE kind = 'timer' AND {CLONES}")
    off = await pool.fetchval(f"SELECT count(*) FROM workflows WHERE {CLONES} AND version <> $1",
                              version + 1)  # fmt: skip
    refired = await pool.fetchval(f"SELECT count(*) FROM timers WHERE {CLONES} AND refires > 0")
    states = await pool.fetch(
        f"SELECT state, count(*) AS n FROM workflows WHERE {CLONES} GROUP BY state"
    )
    by_state = {r["state"]: r["n"] for r in states}
    say(f"workflows by state afterwards: {by_state}")
    # Each timer is the real transition (the election window expired), not a stale no-op.
    figure("took_the_transition", by_state.get("owner_sale_window", 0))
    figure("applied_exactly_once", history["w"] if history["n"] == history["w"] == inbox else 0)
    figure("missing", count - history["w"])
    figure("duplicates", history["n"] - history["w"])
    figure("versions_off_by_other_than_one", off)
    figure("timers_fired_again", refired)
    moved = by_state.get("owner_sale_window", 0)
    if not (history["n"] == history["w"] == inbox == count == moved) or off:
        sys.exit(1)


async def main() -> None:
    from services.store.db import connect

    args = parser.parse_args()
    say(f"load average: {load_average()}")
    async with scratch_database() as url, scratch_namespace() as namespace:
        await machine_context(url, with_broker=True)
        pool = await connect(url, max_size=1)
        try:
            await register_companies(pool, (*COMPANIES, TEMPLATE))
        finally:
            await pool.close()
        count, seconds = await measure(url, namespace, args)
    await pgbench_ratio("timers_applied", count / seconds, seconds, args)
    say("  (ROADMAP item 5 target: 100,000 due timers applied, exactly once, within 60 s)")
    say(f"load average: {load_average()}")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=100_000,
    replicas=(int, 2, "engine replica processes (the deadlines services are always two)"),
    batch=(int, 100, "timers claimed per transaction (EQUITYFLOW_BATCH_SIZE)"),
    engine_batch=(
        int,
        DEFAULT_ENGINE_BATCH,
        "messages the engine applies per transaction (EQUITYFLOW_ENGINE_BATCH)",
    ),
    redelivery_grace=(
        float,
        60.0,
        "EQUITYFLOW_TIMER_REDELIVERY_GRACE: seconds before a fired, unapplied timer is fired "
        "again (the service's default, 60), unless the engine queue still holds messages",
    ),
)
pgbench_arguments(parser)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
