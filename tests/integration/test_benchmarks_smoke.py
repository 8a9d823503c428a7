"""The benchmark scripts still run: each one, at a tiny size, exits 0 and prints its figures.

Speed is measured by the scripts themselves (benchmarks/README.md), never asserted here: a
figure only has to be there and be a number.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
FIGURE = re.compile(r"^figure (\w+) = (\S+)", re.MULTILINE)

ENGINE = ["start_transitions_per_second", "exercise_p99_ms", "transitions_per_second", "p50_ms"]
PGBENCH = ["pgbench_tps", "transitions_to_pgbench_ratio"] if shutil.which("pgbench") else []
SCRIPTS = {
    "engine_throughput.py": (
        ["--size", "12", "--replicas", "2", "--concurrency", "2",
         "--pgbench-scale", "1", "--pgbench-seconds", "1"],
        ENGINE + PGBENCH,
    ),
    "timers_burst.py": (
        ["--size", "300", "--batch", "50"],
        ["seconds_to_fire_all", "messages_per_second", "arrived_exactly_once", "duplicates"],
    ),
    "deadlines_query.py": (
        ["--size", "2000", "--repeat", "2", "--pages", "5"],
        ["first_page_median_ms", "deep_page_median_ms", "party_deep_page_uses_index",
         "rss_growth_mib"],
    ),
    "replay_cost.py": (
        ["--acts", "6", "--repeat", "3"],
        ["rule_only_us", "fast_path_us", "full_replay_ms"],
    ),
    "through_broker.py": (
        ["--size", "20", "--replicas", "2", "--pool-size", "2"],
        ["start_commands_per_second", "exercise_seconds_until_all_applied", "applied"],
    ),
}  # fmt: skip
PURE = {"replay_cost.py"}  # times pure code: no server


@pytest.mark.parametrize("script", sorted(SCRIPTS))
def test_the_benchmark_runs_and_prints_its_figures(
    script: str, database_url: str, amqp_url: str
) -> None:
    flags, expected = SCRIPTS[script]
    # The scripts create (and drop) databases of their own on this server.
    env = {**os.environ, "DATABASE_URL": database_url, "AMQP_URL": amqp_url}
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), *flags, "--max-seconds", "90"],
        cwd=BENCHMARKS.parent, env=env, capture_output=True, text=True, timeout=150,
    )  # fmt: skip
    assert done.returncode == 0, f"{script} failed:\n{done.stdout}\n{done.stderr}"
    figures = dict(FIGURE.findall(done.stdout))
    for name in expected:
        assert name in figures, f"{script} printed no figure {name}:\n{done.stdout}"
        assert not math.isnan(float(figures[name])), f"{name} = {figures[name]}"
    assert re.search(r"cores \d+", done.stdout)  # the machine
    assert "PostgreSQL " in done.stdout or script in PURE  # and the server it timed
    if "arrived_exactly_once" in figures:
        assert figures["duplicates"] == figures["missing"] == "0"
        assert figures["arrived_exactly_once"] == figures["timers"] == "300"
