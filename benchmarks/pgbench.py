"""pgbench TPC-B on a scratch database of the same server: the yardstick of the benchmarks."""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shutil
import subprocess
from typing import Any
from urllib.parse import unquote, urlsplit

from harness import figure, say, scratch_database


def pgbench_tps(url: str, *, clients: int, seconds: int, scale: int) -> float | None:
    """TPC-B (pgbench's default script) on a scratch database of the same server."""
    if shutil.which("pgbench") is None:
        say("pgbench: not installed; no ratio")
        return None
    parts = urlsplit(url)
    env = {**os.environ, "PGPASSWORD": unquote(parts.password or "")}
    connection = [
        "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432),
        "-U", unquote(parts.username or "postgres"), parts.path.lstrip("/"),
    ]  # fmt: skip
    subprocess.run(
        ["pgbench", "-i", "-q", "-s", str(scale), *connection],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    threads = min(clients, os.cpu_count() or 1)
    say(f"pgbench: TPC-B, scale {scale}, {clients} clients, {threads} threads, {seconds} s")
    done = subprocess.run(
        ["pgbench", "-c", str(clients), "-j", str(threads), "-T", str(seconds), *connection],
        env=env, check=True, capture_output=True, text=True,
    )  # fmt: skip
    found = re.search(r"tps = ([\d.]+)", done.stdout)
    if found is None:
        raise RuntimeError(f"no tps in pgbench's output:\n{done.stdout}")
    return float(found.group(1))


async def pgbench_ratio(name: str, per_second: float, seconds: float, args: Any) -> None:
    """pgbench on a scratch database right after the measurement, as long; prints the ratio."""
    if args.no_pgbench:
        return
    seconds = max(1, round(seconds)) if args.pgbench_seconds <= 0 else args.pgbench_seconds
    async with scratch_database("equityflow_pgbench", migrated=False) as url:
        tps = await asyncio.to_thread(
            pgbench_tps, url, clients=args.pgbench_clients, seconds=seconds,
            scale=args.pgbench_scale,
        )  # fmt: skip
    if tps is not None:
        figure("pgbench_tps", tps, "/s")
        figure(f"{name}_to_pgbench_ratio", per_second / tps)


def pgbench_arguments(parser: argparse.ArgumentParser, clients: int = 16) -> None:
    parser.add_argument("--pgbench-clients", type=int, default=clients, help="pgbench -c")
    parser.add_argument(
        "--pgbench-scale", type=int, default=16,
        help="pgbench -s (TPC-B branches; at least the number of clients)",
    )  # fmt: skip
    parser.add_argument(
        "--pgbench-seconds", type=int, default=0, help="pgbench -T; 0 = as long as measured"
    )
    parser.add_argument("--no-pgbench", action="store_true", help="skip the pgbench comparison")
