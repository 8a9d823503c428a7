"""The services as deployed: ``equityflow serve <name>`` processes, and waiting on the database."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from harness import say, server_amqp_url

REPOSITORY = Path(__file__).resolve().parents[1]


@asynccontextmanager
async def served(
    database_url: str, namespace: str, names: Sequence[str], **settings: object
) -> AsyncIterator[list[subprocess.Popen[bytes]]]:
    """``equityflow serve <name>`` for each of ``names``, one process each, as deployed.

    They use the system clock and the settings given (``batch_size=500`` sets
    ``EQUITYFLOW_BATCH_SIZE``). Ready when every one keeps its ready file (connected, consuming);
    stopped with SIGTERM at the end. Each one's log goes to a file, shown if it fails to start.
    """
    folder = Path(tempfile.mkdtemp(prefix="efbench-"))
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "AMQP_URL": server_amqp_url(),
        "EQUITYFLOW_NAMESPACE": namespace,
        "EQUITYFLOW_SIMULATED_CLOCK": "false",
        **{f"EQUITYFLOW_{k.upper()}": str(v) for k, v in settings.items()},
    }
    processes: list[subprocess.Popen[bytes]] = []
    try:
        for n, name in enumerate(names):
            processes.append(
                _start(
                    name,
                    {**env, "EQUITYFLOW_READY_FILE": str(folder / f"{n}.ready")},
                    folder / f"{n}-{name}.log",
                )
            )
        await _until_ready(folder, names, processes)
        say(f"services running: {', '.join(names)}")
        yield processes
    finally:
        for p in processes:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in processes:
            try:
                await asyncio.to_thread(p.wait, 30)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _start(name: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", name],
            cwd=REPOSITORY, env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


async def _until_ready(
    folder: Path, names: Sequence[str], processes: Sequence[subprocess.Popen[bytes]]
) -> None:
    began = time.perf_counter()
    while not all((folder / f"{n}.ready").exists() for n in range(len(names))):
        for n, p in enumerate(processes):
            if p.poll() is not None:
                log = (folder / f"{n}-{names[n]}.log").read_text(errors="replace")
                raise RuntimeError(f"serve {names[n]} exited ({p.returncode}):\n{log[-3000:]}")
        if time.perf_counter() - began > 120:
            raise RuntimeError("the services were not ready within 120 s")
        await asyncio.sleep(0.1)


async def until(
    pool: asyncpg.Pool,
    query: str,
    target: int,
    what: str,
    *args: object,
    every: float = 5.0,
    interval: float = 0.2,
) -> float:
    """Poll ``query`` (a count) every ``interval`` s until it reaches ``target``; the time it
    took. Counting is not free: the interval is the resolution, kept coarse so that polling
    takes little of the cores being measured. Progress is printed ``every`` seconds."""
    began = last = time.perf_counter()
    while (done := await pool.fetchval(query, *args)) < target:
        now = time.perf_counter()
        if now - last >= every:
            last = now
            say(f"  … {what}: {done}/{target} ({done / (now - began):,.0f}/s)")
        await asyncio.sleep(interval)
    return time.perf_counter() - began
