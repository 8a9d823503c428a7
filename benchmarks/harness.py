"""What every benchmark shares: a scratch database and RabbitMQ namespace, the machine it runs
on, ROFR messages and cloned deadline rows, and one way to print a figure.

A figure is printed as ``figure <name> = <number> [unit]`` so that a script (and the smoke
test) can find it; everything else a benchmark prints is for the reader.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import signal
import statistics
import sys
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.settings import Settings
from workflows.messages import CommandMessage

LOCAL_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
COMPANY_TERMS = "fmp-1998-nso"
# The time every benchmark's clock shows: inside the election window of the notices below.
NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}


class FixedClock:
    """A clock that reads no database: the benchmarks time the engine, not the clock."""

    def __init__(self, now: datetime = NOW) -> None:
        self._now = now

    async def now(self) -> datetime:
        return self._now


# -- command line and output ---------------------------------------------------------------


def arguments(description: str, default_size: int, **extra: Any) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--size", type=int, default=default_size, help="how many (N)")
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=900.0,
        help="give up (exit 2) after this long; the scratch database is dropped either way",
    )
    for flag, (kind, default, text) in extra.items():
        parser.add_argument(f"--{flag.replace('_', '-')}", type=kind, default=default, help=text)
    return parser


def figure(name: str, value: float | int, unit: str = "") -> None:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    print(f"figure {name} = {text}{' ' + unit if unit else ''}", flush=True)


def say(text: str) -> None:
    print(text, flush=True)


class Progress:
    """Prints ``done/total`` at most every ``every`` seconds, for long runs."""

    def __init__(self, what: str, total: int, every: float = 5.0) -> None:
        self.what, self.total, self.every = what, total, every
        self.start = self._last = time.perf_counter()

    def update(self, done: int) -> None:
        now = time.perf_counter()
        if now - self._last >= self.every:
            self._last = now
            rate = done / (now - self.start) if now > self.start else 0.0
            say(f"  … {self.what}: {done}/{self.total} ({rate:,.0f}/s)")


def percentile(values: Sequence[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def quiet_logs() -> None:
    """One log line per message would time the terminal, not the engine."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("services.engine", "faststream", "aio_pika", "aiormq"):
        logging.getLogger(noisy).setLevel(logging.ERROR)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def run(main: Any, max_seconds: float) -> None:
    """Run ``main()`` (a coroutine function) within the time bound; exit 2 when it runs over."""
    _bounded(main, max_seconds)


def run_parsed(main: Any, parser: argparse.ArgumentParser) -> None:
    """Parse the command line once, quiet the services' logs, and run ``main(args)`` within
    ``--max-seconds``; exit 2 when it runs over."""
    args = parser.parse_args()
    quiet_logs()
    _bounded(lambda: main(args), args.max_seconds)


def _bounded(main: Any, max_seconds: float) -> None:
    async def bounded() -> None:
        async with asyncio.timeout(max_seconds):
            await main()

    # Stopped (SIGTERM): unwind like Ctrl-C, so the services started, the scratch database and
    # the namespace are stopped and removed on the way out.
    signal.signal(signal.SIGTERM, _interrupt)

    try:
        asyncio.run(bounded())
    except KeyboardInterrupt:
        say("stopped; scratch database, namespace and services removed")
        sys.exit(130)
    except TimeoutError:
        say(f"gave up after {max_seconds:.0f} s (--max-seconds)")
        sys.exit(2)


# -- servers ----------------------------------------------------------------------------------


def server_database_url() -> str:
    return Settings().database_url or LOCAL_DATABASE_URL


def server_amqp_url() -> str:
    return Settings().amqp_url or LOCAL_AMQP_URL


def with_database(url: str, database: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{database}"))


def unique_name(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:10]}"


@asynccontextmanager
async def scratch_database(
    prefix: str = "equityflow_bench", *, migrated: bool = True
) -> AsyncIterator[str]:
    """A database of its own (migrated to the kernel schema), dropped afterwards."""
    from services.store.db import connect, migrate

    server = server_database_url()
    name = unique_name(prefix)
    admin = await asyncpg.connect(server, timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = with_database(server, name)
    try:
        if migrated:
            pool = await connect(url, max_size=2)
            try:
                await migrate(pool)
            finally:
                await pool.close()
        yield url
    finally:
        admin = await asyncpg.connect(server, timeout=10)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@asynccontextmanager
async def scratch_namespace() -> AsyncIterator[str]:
    """A RabbitMQ namespace of its own; its exchanges and queues are deleted afterwards."""
    from services.bus.runner import delete_topology
    from services.bus.topology import Topology

    namespace = unique_name("efbench").replace("_", "-")
    try:
        yield namespace
    finally:
        await delete_topology(server_amqp_url(), Topology(namespace))


async def machine_context(database_url: str, *, with_broker: bool = False) -> None:
    """Print what the figures depend on: cores, memory, PostgreSQL and its settings."""
    connection = await asyncpg.connect(database_url, timeout=10)
    try:
        version = await connection.fetchval("SHOW server_version")
        settings = {
            name: await connection.fetchval(f"SHOW {name}")
            for name in ("shared_buffers", "synchronous_commit", "max_connections")
        }
    finally:
        await connection.close()
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    say("machine:")
    say(f"  cores {os.cpu_count()}, memory {memory:.1f} GiB, {platform.machine()}")
    # The interpreter's build, not only its version: one built with profile-guided and link-time
    # optimisation (the deployed image's, a distribution's python3) runs the engine's Python
    # work faster than one built without (a plain source build), on the same machine.
    build = ", ".join(platform.python_build())
    say(
        f"  Python {platform.python_version()} ({build}, {platform.python_compiler()}), "
        f"{sys.executable}"
    )
    say(f"  {platform.system()} {platform.release()}")
    say(f"  PostgreSQL {version} ({', '.join(f'{k}={v}' for k, v in settings.items())})")
    say(f"  PostgreSQL at {urlsplit(database_url).hostname}:{urlsplit(database_url).port}")
    if with_broker:
        import aio_pika

        broker = await aio_pika.connect(server_amqp_url(), timeout=10)
        try:
            properties = broker.transport.connection.server_properties
            product, release = properties.get("product", "RabbitMQ"), properties.get("version")
            say(f"  {product} {release} at {urlsplit(server_amqp_url()).hostname}")
        finally:
            await broker.close()


def load_average() -> str:
    """The machine's load (1, 5, 15 min): the figures depend on what else shares the cores."""
    try:
        return ", ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def rss_mib() -> float:
    """The resident set size of this process now (not its peak)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:  # not Linux: the peak is the best there is
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- ROFR messages ---------------------------------------------------------------------------


def workflow_id(salt: str, i: int) -> uuid.UUID:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"{salt}/{i}")


def rofr_command(
    company: str, workflow: uuid.UUID, name: str, party: str, **payload: Any
) -> CommandMessage:
    return CommandMessage(
        message_id=str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow,
        workflow_type="rofr",
        command=name,
        actor={"party": party},
        payload=payload,
    )


def delivered(at: datetime) -> dict[str, str]:
    """A notice delivered in person at ``at``."""
    return {"method": "personal", "delivered_at": at.isoformat()}


def disposition_notice(
    company: str, workflow: uuid.UUID, notice: dict[str, str] = NOTICE
) -> CommandMessage:
    """FMP §6(d)(ii): the owner's Disposition Notice starts the ROFR."""
    return rofr_command(
        company, workflow, "deliver_disposition_notice", "owner",
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration={"form": "cash", "price_per_share": "2.50"},
        compliance_proof="opinion of counsel", notice=notice,
    )  # fmt: skip


def exercise(company: str, workflow: uuid.UUID, notice: dict[str, str] = NOTICE) -> CommandMessage:
    """FMP §6(d)(iii): the company exercises: the election deadline goes, a closing one comes."""
    return rofr_command(company, workflow, "exercise_rofr", "company", notice=notice)


async def register_companies(pool: asyncpg.Pool, companies: Sequence[str]) -> None:
    from services.store import register_company

    for company in companies:
        await register_company(pool, company, COMPANY_TERMS, f"{company}, Inc.")


# -- cloned deadlines ------------------------------------------------------------------------


async def template_workflow(pool: asyncpg.Pool, company: str) -> uuid.UUID:
    """One real ROFR started through the engine: its rows are the pattern bulk rows copy."""
    from services.engine import apply
    from services.terms_catalog import TermsCatalog

    template = workflow_id("template", 0)
    outcome = await apply(pool, disposition_notice(company, template), FixedClock(), TermsCatalog())
    assert outcome.status == "applied", outcome.refusal
    return template


_CLONE_WORKFLOWS = """
INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, terms_digest,
                       state, data, version, final, head_hash, created_at, updated_at)
SELECT md5($1 || '/w/' || i)::uuid, ($3::text[])[1 + i % cardinality($3::text[])],
       t.workflow_type, t.terms_id,
       CASE WHEN $6 THEN t.terms ELSE jsonb_build_object('id', t.terms_id) END,
       CASE WHEN $6 THEN t.terms_digest END, t.state, t.data,
       t.version, false, t.head_hash, t.created_at, t.updated_at
FROM workflows t, generate_series($4::bigint, $5::bigint) AS i
WHERE t.workflow_id = $2
"""
_CLONE_TIMERS = """
INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, party,
                    action, clause, derivation, deadline)
SELECT md5($1 || '/t/' || i || '/' || k)::uuid, md5($1 || '/w/' || i)::uuid,
       ($3::text[])[1 + i % cardinality($3::text[])], t.workflow_type,
       CASE WHEN k = 0 THEN t.name ELSE t.name || '_' || k END,
       $6::timestamptz + (i * $8 + k) * $7::interval,
       ($9::text[])[1 + (i + k) % cardinality($9::text[])],
       t.action, t.clause, t.derivation, t.deadline
FROM timers t, generate_series($4::bigint, $5::bigint) AS i, generate_series(0, $10 - 1) AS k
WHERE t.workflow_id = $2 AND t.status = 'pending'
"""

# The clones' recorded deadlines, moved to their timers' due times: where the rules read it
# (``deadlines``) and where the timeline keeps it pending (a timer whose due time differs from
# its pending deadline is stale, and would be recorded as a no-op).
_ALIGN_DEADLINES = """
UPDATE workflows w
SET data = jsonb_set(
    jsonb_set(w.data, ARRAY['deadlines', t.name, 'at'], to_jsonb(t.due_at)),
    ARRAY['timeline', 'pending', t.name, 'deadline', 'at'], to_jsonb(t.due_at))
FROM timers t
WHERE t.workflow_id = w.workflow_id AND t.status = 'pending'
  AND w.workflow_id IN (SELECT md5($1 || '/w/' || i)::uuid
                        FROM generate_series($2::bigint, $3::bigint) AS i)
"""


async def clone_deadlines(
    pool: asyncpg.Pool,
    template: uuid.UUID,
    *,
    count: int,
    companies: Sequence[str],
    parties: Sequence[str],
    first_due: datetime,
    spacing_seconds: float,
    per_workflow: int = 1,
    chunk: int = 50_000,
    applicable: bool = False,
) -> int:
    """Insert ``count`` pending timers (``per_workflow`` to a workflow) copied from the template.

    Workflows and timers are generated by the server (``generate_series``), a chunk of
    workflows per transaction: the rows are what the engine writes, except that each clone's
    pinned terms is a stub, unless ``applicable``: then the template's terms are copied and
    each clone's recorded deadline is its timer's due time, so that the engine applies the
    timer as the real transition (a timer whose deadline was since replaced is stale, a no-op).
    Returns how many timers were inserted (``count`` rounded up to whole workflows).
    """
    salt = uuid.uuid4().hex
    workflows = -(-count // per_workflow)
    progress = Progress("deadline rows inserted", count)
    spacing = timedelta(seconds=spacing_seconds)
    for low in range(0, workflows, chunk):
        high = min(workflows, low + chunk) - 1
        async with pool.acquire() as c, c.transaction():
            await c.execute(
                _CLONE_WORKFLOWS, salt, template, list(companies), low, high, applicable
            )
            await c.execute(
                _CLONE_TIMERS, salt, template, list(companies), low, high, first_due, spacing,
                per_workflow, list(parties), per_workflow,
            )  # fmt: skip
            if applicable:
                await c.execute(_ALIGN_DEADLINES, salt, low, high)
                # Statistics in the same commit: services already running plan their first
                # claims with them, as they would after autovacuum on a table grown slowly.
                await c.execute("ANALYZE timers, workflows")
        progress.update((high + 1) * per_workflow)
    return workflows * per_workflow
