"""The ROFR against DBOS: notice → election timer → sale-window timer, workflows per second.

N ROFR workflows run from the owner's Disposition Notice (FMP §6(d)(ii)) through the expiry of
the company's election window (FMP §6(d)(iii)) to the expiry of the owner's sale window
(FMP §6(d)(iv)), three transitions each. Their notices were delivered 400 days ago, so each
deadline is due as soon as it is set and the deadlines service fires it at once. Measured:

- directly: the engine's ``apply`` called in this process for the notices, and the real
  deadlines loop (``run_deadlines``) handing its timer messages straight to ``apply``, until
  every workflow is in ``rofr_reattached``;
- through RabbitMQ: engine, deadlines and relay processes as deployed (``equityflow serve``),
  the notices published to RabbitMQ, until every workflow is in ``rofr_reattached`` and the
  relay has published every event;
- DBOS (the ``dbos`` package, pinned, in a virtual environment this script creates in a scratch
  folder: never a dependency of equityflow) on the same PostgreSQL, running the same shape as
  a workflow of three steps and two durable sleeps (``dbos_rofr.py``).

    uv run python benchmarks/rofr_vs_dbos.py --size 2000

Exit 3 (after saying why) when the DBOS environment cannot be made: offline from the package
cache first, then from the package index unless ``--offline``.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deployed import served, until
from harness import (
    arguments,
    delivered,
    disposition_notice,
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

DBOS_REQUIREMENT = "dbos==3.4.0"
NO_DBOS = 3  # exit status: the DBOS environment could not be made
COMPANIES = ("acme", "globex", "initech", "umbrella")
FINAL = "SELECT count(*) FROM workflows WHERE state = 'rofr_reattached'"
SENT = "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
IN_FLIGHT = 500


def notices(size: int) -> list[Any]:
    salt = unique_name("rofr")
    long_ago = delivered(datetime.now(UTC) - timedelta(days=400))
    return [
        disposition_notice(COMPANIES[i % len(COMPANIES)], workflow_id(salt, i), long_ago)
        for i in range(size)
    ]


# -- DBOS's own environment ------------------------------------------------------------------


class NoDBOS(Exception):
    """The DBOS environment could not be made (why is the message)."""


def dbos_environment(folder: Path, *, offline: bool) -> Path:
    """A virtual environment in ``folder`` with DBOS installed; its Python."""
    uv = shutil.which("uv")
    if uv is None:
        raise NoDBOS("uv is not on PATH (it makes DBOS's environment and installs it)")
    venv = folder / "dbos-venv"
    made = subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        capture_output=True, text=True,
    )  # fmt: skip
    if made.returncode != 0:
        raise NoDBOS(f"uv venv failed: {made.stderr.strip()[-500:]}")
    python = venv / "bin" / "python"
    install = [uv, "pip", "install", "--quiet", "--python", str(python), DBOS_REQUIREMENT]
    cached = subprocess.run([*install, "--offline"], capture_output=True, text=True)
    if cached.returncode == 0:
        say(f"DBOS: {DBOS_REQUIREMENT} installed offline (package cache) in a scratch folder")
        return python
    if offline:
        raise NoDBOS(
            f"{DBOS_REQUIREMENT} is not in the package cache and --offline forbids fetching it: "
            + cached.stderr.strip()[-500:]
        )
    fetched = subprocess.run(install, capture_output=True, text=True)
    if fetched.returncode != 0:
        raise NoDBOS(
            f"{DBOS_REQUIREMENT} could not be installed, neither offline nor from the package "
            f"index: {fetched.stderr.strip()[-500:]}"
        )
    say(f"DBOS: {DBOS_REQUIREMENT} installed from the package index in a scratch folder")
    return python


async def measure_dbos(python: Path, args: Any) -> float:
    async with scratch_database("equityflow_dbos", migrated=False) as url:
        done = await asyncio.to_thread(
            subprocess.run,
            [str(python), str(Path(__file__).with_name("dbos_rofr.py")),
             "--url", url, "--size", str(args.size), "--in-flight", str(IN_FLIGHT)],
            capture_output=True, text=True, timeout=args.max_seconds,
        )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"the DBOS workflow failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    if result["final"] != args.size:
        raise RuntimeError(f"DBOS finished {result['final']} of {args.size} workflows")
    rate = float(args.size / result["seconds"])
    say(f"DBOS: {args.size} workflows in {result['seconds']:.2f} s")
    figure("dbos_workflows_per_second", rate, "/s")
    return rate


# -- equityflow, directly --------------------------------------------------------------------


class DirectToEngine:
    """A publisher that hands each timer message (of the bundles the deadlines service
    publishes) to the engine's ``apply`` in this process.

    Messages are queued and applied by worker tasks, never inside ``publish``: the deadlines
    service publishes while holding the row locks of the timers the engine marks applied.
    """

    def __init__(self, pool: Any, clock: Any, catalog: Any, workers: int) -> None:
        self.pool, self.clock, self.catalog = pool, clock, catalog
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def publish(self, body: bytes, **_: Any) -> None:
        from workflows.messages import TimerBundle

        for timer in TimerBundle.model_validate_json(body).timers:
            self.queue.put_nowait(timer)

    async def _work(self) -> None:
        from services.engine import apply

        while True:
            message = await self.queue.get()
            await apply(self.pool, message, self.clock, self.catalog)

    def stop(self) -> None:
        for w in self.workers:
            w.cancel()


async def measure_direct(url: str, args: Any) -> float:
    from services.bus.topology import Topology
    from services.clock import SystemClock
    from services.deadlines import run_deadlines
    from services.engine import apply
    from services.gc_tuning import tune_after_start
    from services.store.db import connect
    from services.terms_catalog import TermsCatalog

    pool = await connect(url, max_size=args.concurrency + 2)
    clock, catalog = SystemClock(), TermsCatalog()
    messages = notices(args.size)
    tune_after_start()  # as a served process does once it is built
    engine = DirectToEngine(pool, clock, catalog, args.concurrency)
    deadlines = asyncio.create_task(
        run_deadlines(pool, clock, engine, Topology("direct"), poll_interval=0.1,
                      batch_size=args.batch)
    )  # fmt: skip
    pending = iter(messages)

    async def start() -> None:
        for message in pending:
            outcome = await apply(pool, message, clock, catalog)
            if outcome.status != "applied":
                raise RuntimeError(f"notice not applied: {outcome}")

    try:
        say(f"directly: {args.size} notices, {args.concurrency} workers, the deadlines loop")
        began = time.perf_counter()
        await asyncio.gather(*(start() for _ in range(args.concurrency)))
        await until(pool, FINAL, args.size, "final")
        seconds = time.perf_counter() - began
    finally:
        deadlines.cancel()
        engine.stop()
        await asyncio.gather(deadlines, *engine.workers, return_exceptions=True)
        await pool.close()
    rate = args.size / seconds
    say(f"directly: {args.size} workflows final in {seconds:.2f} s")
    figure("direct_workflows_per_second", rate, "/s")
    return rate


# -- equityflow, through RabbitMQ ------------------------------------------------------------


async def measure_broker(url: str, namespace: str, args: Any) -> float:
    from services.bus.runner import running_bus
    from services.bus.topology import Topology
    from services.store.db import connect

    services = ["engine"] * args.replicas + ["deadlines", "relay"]
    messages = notices(args.size)
    pool = await connect(url, max_size=2)
    try:
        async with (
            served(
                url,
                namespace,
                services,
                batch_size=args.batch,
                relay_batch=args.relay_batch,
                poll_interval=0.1,
            ),
            running_bus(server_amqp_url(), Topology(namespace)) as bus,
        ):
            say(f"through RabbitMQ: {args.size} notices; services {', '.join(services)}")
            began = time.perf_counter()
            for low in range(0, len(messages), IN_FLIGHT):
                batch = messages[low : low + IN_FLIGHT]
                await asyncio.gather(*(bus.send_command(m) for m in batch))
            await until(pool, FINAL, args.size, "final")
            final = time.perf_counter() - began
            events = await pool.fetchval("SELECT count(*) FROM outbox")
            await until(pool, SENT, events, "events published")
            relayed = time.perf_counter() - began
    finally:
        await pool.close()
    say(f"through RabbitMQ: final in {final:.2f} s, every event published in {relayed:.2f} s")
    figure("broker_seconds_until_all_final", final, "s")
    figure("broker_seconds_until_all_published", relayed, "s")
    figure("broker_events_published", events)
    rate = args.size / relayed
    figure("broker_workflows_per_second", rate, "/s")
    return rate


async def register_companies_at(url: str) -> None:
    from services.store.db import connect

    pool = await connect(url, max_size=1)
    try:
        await register_companies(pool, COMPANIES)
    finally:
        await pool.close()


async def main(args: Any) -> None:
    say(f"load average: {load_average()}")
    with tempfile.TemporaryDirectory(prefix="efbench-dbos-") as scratch:
        try:
            python = await asyncio.to_thread(dbos_environment, Path(scratch), offline=args.offline)
        except NoDBOS as why:
            say(f"no DBOS environment: {why}")
            sys.exit(NO_DBOS)
        async with scratch_database() as url:
            await machine_context(url, with_broker=True)
            await register_companies_at(url)
            direct = await measure_direct(url, args)
        async with scratch_database() as url, scratch_namespace() as namespace:
            await register_companies_at(url)
            broker = await measure_broker(url, namespace, args)
        dbos = await measure_dbos(python, args)
    figure("direct_to_dbos_ratio", direct / dbos)
    figure("broker_to_dbos_ratio", broker / dbos)
    say("  (ROADMAP item 4 target: end to end through RabbitMQ, at least 5× DBOS)")
    say(f"load average: {load_average()}")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=2_000,
    replicas=(int, 2, "engine replica processes through RabbitMQ"),
    concurrency=(int, 8, "directly: concurrent workers applying notices, and timers"),
    batch=(int, 100, "the deadlines service's batch (EQUITYFLOW_BATCH_SIZE)"),
    relay_batch=(int, 1000, "the relay's batch (EQUITYFLOW_RELAY_BATCH)"),
)
parser.add_argument(
    "--offline", action="store_true", help="make DBOS's environment from the package cache only"
)

if __name__ == "__main__":
    run_parsed(main, parser)
