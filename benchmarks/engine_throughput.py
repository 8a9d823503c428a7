"""Engine throughput: ROFR transitions per second through ``services.engine.apply_batch``.

N workflows are started (FMP §6(d)(ii) Disposition Notice), then each is given a second command
(FMP §6(d)(iii) exercise: the election deadline is cancelled, a closing deadline set), applied
directly — no broker — by R replica processes, each with its own pool and C concurrent workers.
Then ``pgbench`` (TPC-B) runs on the same server for as long and the ratio is printed (ROADMAP
item 5: transitions/s at least pgbench's tps).

The defaults are the engine as it is served and pgbench at its best: C is the number of batches
an engine consumer applies at once (``ENGINE_BATCHES_IN_FLIGHT``, 2), and pgbench runs 16
clients, around which TPC-B peaks on a small machine (more workers than that slow the engine
down: its transactions then wait on each other's CPU; ``--concurrency 8`` shows it).

    uv run python benchmarks/engine_throughput.py --size 20000 --replicas 2 --concurrency 8

With ``--batch B`` each worker applies up to B messages per transaction
(``services.engine.apply_batch``), as the engine consumer does.
"""

from __future__ import annotations

import asyncio
import collections
import itertools
import multiprocessing
import sys
import time
from typing import Any

from harness import (
    FixedClock,
    Progress,
    arguments,
    disposition_notice,
    exercise,
    figure,
    machine_context,
    percentile,
    quiet_logs,
    register_companies,
    run,
    say,
    scratch_database,
    unique_name,
    workflow_id,
)
from pgbench import pgbench_arguments, pgbench_tps

from services.bus.consumers import DEFAULT_ENGINE_BATCH, ENGINE_BATCHES_IN_FLIGHT

COMPANIES = ("acme", "globex", "initech", "umbrella")
PHASES = (("start", disposition_notice), ("exercise", exercise))


# -- one replica (a process of its own) --------------------------------------------------------


def replica(
    index: int,
    replicas: int,
    url: str,
    size: int,
    concurrency: int,
    salt: str,
    barrier: Any,
    results: Any,
    batch: int = 1,
) -> None:
    quiet_logs()
    try:
        results.put(
            asyncio.run(_replica(index, replicas, url, size, concurrency, salt, barrier, batch))
        )
    except BaseException as error:
        barrier.abort()  # the parent and the other replicas stop waiting
        results.put({"replica": index, "error": repr(error)})
        raise


async def _replica(
    index: int,
    replicas: int,
    url: str,
    size: int,
    concurrency: int,
    salt: str,
    barrier: Any,
    batch: int,
) -> dict[str, Any]:
    # Imported before the clock starts, as an engine process imports it when it starts.
    from services.engine import apply_batch
    from services.gc_tuning import tune_after_start
    from services.store.db import connect
    from services.terms_catalog import TermsCatalog
    from workflows import registry  # noqa: F401  (the engine reads its kinds from it)

    pool = await connect(url, min_size=concurrency, max_size=concurrency)
    catalog, clock = TermsCatalog(), FixedClock()
    tune_after_start()  # as an engine process does once it is built
    mine = range(index, size, replicas)
    phases: dict[str, Any] = {}
    try:
        for phase, make in PHASES:
            messages = [make(COMPANIES[i % len(COMPANIES)], workflow_id(salt, i)) for i in mine]
            await asyncio.to_thread(barrier.wait)  # every replica ready: the clock starts
            phases[phase] = await _apply_all(
                apply_batch, pool, messages, clock, catalog, concurrency, index, batch
            )
            await asyncio.to_thread(barrier.wait)  # every replica done: the clock stops
    finally:
        await pool.close()
    return {"replica": index, "phases": phases}


async def _apply_all(
    apply_batch: Any,
    pool: Any,
    messages: list[Any],
    clock: Any,
    catalog: Any,
    concurrency: int,
    index: int,
    batch: int,
) -> dict[str, Any]:
    latencies: list[float] = []
    outcomes: collections.Counter[str] = collections.Counter()
    queue = iter(messages)
    progress = Progress(f"replica {index}", len(messages))

    async def worker() -> None:
        # Up to ``batch`` messages per transaction (services.engine.apply_batch), as the
        # engine consumer takes them off its queue.
        while chunk := list(itertools.islice(queue, batch)):
            began = time.perf_counter()
            results = await apply_batch(pool, chunk, clock, catalog)
            elapsed = time.perf_counter() - began
            for result in results:
                latencies.append(elapsed)
                outcomes[getattr(result, "status", type(result).__name__)] += 1
            progress.update(len(latencies))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return {"latencies": latencies, "outcomes": dict(outcomes)}


# -- the run ---------------------------------------------------------------------------------


async def measure_engine(url: str, args: Any) -> float:
    from services.store.db import connect

    pool = await connect(url, max_size=2)
    try:
        await register_companies(pool, COMPANIES)
    finally:
        await pool.close()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(args.replicas + 1, timeout=args.max_seconds)
    results = context.Queue()
    salt = unique_name("engine")
    processes = [
        context.Process(
            target=replica,
            args=(
                k,
                args.replicas,
                url,
                args.size,
                args.concurrency,
                salt,
                barrier,
                results,
                args.batch,
            ),
        )
        for k in range(args.replicas)
    ]
    for p in processes:
        p.start()
    walls: dict[str, float] = {}
    try:
        for phase, _ in PHASES:
            say(
                f"{phase}: {args.size} commands, {args.replicas}×{args.concurrency} workers, "
                f"up to {args.batch} per transaction"
            )
            await asyncio.to_thread(barrier.wait)
            began = time.perf_counter()
            await asyncio.to_thread(barrier.wait)
            walls[phase] = time.perf_counter() - began
        reports = [await asyncio.to_thread(results.get, True, 60) for _ in processes]
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    failed = [r for r in reports if "error" in r]
    if failed:
        raise RuntimeError(f"replicas failed: {failed}")
    return _report(walls, reports, args.size)


def _report(walls: dict[str, float], reports: list[dict[str, Any]], size: int) -> float:
    say("engine (services.engine.apply_batch, no broker):")
    everything: list[float] = []
    for phase, _ in PHASES:
        latencies = [x for r in reports for x in r["phases"][phase]["latencies"]]
        outcomes: collections.Counter[str] = collections.Counter()
        for r in reports:
            outcomes.update(r["phases"][phase]["outcomes"])
        everything += latencies
        say(f"  {phase}: {walls[phase]:.2f} s, outcomes {dict(outcomes)}")
        figure(f"{phase}_transitions_per_second", size / walls[phase], "/s")
        figure(f"{phase}_p50_ms", percentile(latencies, 50) * 1000, "ms")
        figure(f"{phase}_p99_ms", percentile(latencies, 99) * 1000, "ms")
        if outcomes.get("applied", 0) != size:
            raise RuntimeError(f"{phase}: expected {size} applied, got {dict(outcomes)}")
    total = sum(walls.values())
    figure("transitions_per_second", 2 * size / total, "/s")
    figure("p50_ms", percentile(everything, 50) * 1000, "ms")
    figure("p99_ms", percentile(everything, 99) * 1000, "ms")
    return total


async def main() -> None:
    args = parser.parse_args()
    async with scratch_database() as url:
        await machine_context(url)
        engine_seconds = await measure_engine(url, args)
    if args.no_pgbench:
        return
    seconds = max(1, round(engine_seconds)) if args.pgbench_seconds <= 0 else args.pgbench_seconds
    async with scratch_database("equityflow_pgbench", migrated=False) as url:
        tps = await asyncio.to_thread(
            pgbench_tps, url, clients=args.pgbench_clients, seconds=seconds,
            scale=args.pgbench_scale,
        )  # fmt: skip
    if tps is not None:
        figure("pgbench_tps", tps, "/s")
        figure("transitions_to_pgbench_ratio", 2 * args.size / engine_seconds / tps)
        say("  (ROADMAP item 5 target: ratio ≥ 1.0)")


parser = arguments(
    __doc__.split("\n")[0],
    default_size=10_000,
    replicas=(int, 2, "engine replica processes (R), each with its own pool"),
    concurrency=(
        int,
        ENGINE_BATCHES_IN_FLIGHT,
        "concurrent workers (and connections) per replica (C; as an engine consumer applies "
        f"{ENGINE_BATCHES_IN_FLIGHT} batches at once)",
    ),
    batch=(
        int,
        DEFAULT_ENGINE_BATCH,
        f"messages per transaction (B; as EQUITYFLOW_ENGINE_BATCH, default {DEFAULT_ENGINE_BATCH})",
    ),
)
pgbench_arguments(parser)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
    sys.exit(0)
