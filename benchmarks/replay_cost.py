"""What judging acts by their effective time costs ``decide`` on a workflow of 20 acts.

A FMP ROFR workflow is built from 20 acts (a Disposition Notice, 17 assignments of the right,
a part exercise and the owner's choice of (B)), then timed, pure (no servers), three ways:

- ``rule_only_us``: the kind's rule for one message alone, as every message cost before the
  timeline (the floor);
- ``fast_path_us``: ``decide`` for the 20th act entered in order (it takes effect after every
  act recorded: applied to the current state, the common case);
- ``full_replay_ms``: ``decide`` for an act entered last that took effect second (an
  assignment dated the day of the notice): all 21 acts are replayed from the start and the
  outcome compared with what was applied before.

    uv run python benchmarks/replay_cost.py [--acts N] [--repeat R]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from services.terms_catalog import TermsCatalog
from workflows import registry
from workflows.kernel import Actor, Command, Party
from workflows.rofr.decide import KIND as RULES

PT = ZoneInfo("America/Los_Angeles")
START = datetime(2026, 3, 2, 10, 0, tzinfo=PT)
ROFR = registry.kind("rofr")
TERMS = TermsCatalog().get("fmp-1998-nso")


def figure(name: str, value: float | int, unit: str = "") -> None:
    text = f"{value:.6g}" if isinstance(value, float) else str(value)
    print(f"figure {name} = {text}{' ' + unit if unit else ''}", flush=True)


def _notice(when: datetime) -> dict[str, str]:
    return {"method": "personal", "delivered_at": when.isoformat()}


def acts(n: int) -> list[tuple[Command, datetime]]:
    """``n`` acts (n >= 4) with the time each is entered."""
    notice = {
        "holder": "alice", "shares": 1000, "transferee": {"name": "Bob Buyer"},
        "consideration": {"form": "cash", "price_per_share": "2.50"},
        "compliance_proof": "counsel's letter", "notice": _notice(START),
    }  # fmt: skip
    out = [(Command("deliver_transfer_notice", Actor(Party.OWNER), notice), START)]
    for i in range(n - 3):
        when = START + timedelta(hours=i + 1)
        payload = {"assignee": f"Fund {i}", "assigned_at": when.isoformat()}
        out.append((Command("assign_rofr", Actor(Party.COMPANY), payload), when))
    exercised = START + timedelta(days=18)
    part = {"shares": 100, "notice": _notice(exercised)}
    out.append((Command("exercise_rofr", Actor(Party.COMPANY), part), exercised))
    chosen = START + timedelta(days=20)
    choice = {"alternative": "sale_to_company", "notice": _notice(chosen)}
    out.append((Command("choose_sale_alternative", Actor(Party.OWNER), choice), chosen))
    return out


def median_us(fn: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--acts", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--max-seconds", type=float, default=900)  # the harness's common flag
    args = parser.parse_args()
    print(
        f"machine: {platform.machine()}, cores {os.cpu_count()}, "
        f"Python {platform.python_version()} (pure: no server)"
    )
    steps = acts(args.acts)
    state: str | None = None
    data: dict[str, Any] = {}
    for command, entered in steps[:-1]:
        d = ROFR.decide(state, data, command, entered + timedelta(minutes=5), TERMS)
        state, data = d.state, dict(d.data)
    last, entered = steps[-1]
    now = entered + timedelta(minutes=5)
    fast = median_us(lambda: ROFR.decide(state, data, last, now, TERMS), args.repeat)
    d = ROFR.decide(state, data, last, now, TERMS)
    assert d.state == "closing", d.state
    full_state, full_data = d.state, dict(d.data)
    rule_data = {k: v for k, v in data.items() if k != "timeline"}
    rule = median_us(lambda: RULES.rule(TERMS, state or "new", rule_data, last, now), args.repeat)
    early = Command(
        "assign_rofr",
        Actor(Party.COMPANY),
        {"assignee": "Early Fund", "assigned_at": (START + timedelta(minutes=30)).isoformat()},
    )
    later = now + timedelta(days=1)
    full = median_us(
        lambda: ROFR.decide(full_state, full_data, early, later, TERMS), max(args.repeat // 4, 5)
    )
    replayed = ROFR.decide(full_state, full_data, early, later, TERMS)
    assert len(replayed.data["timeline"]["acts"]) == args.acts + 1
    print(f"a workflow of {args.acts} acts; the slow path replays {args.acts + 1}")
    figure("acts", args.acts)
    figure("rule_only_us", rule, "us")
    figure("fast_path_us", fast, "us")
    figure("full_replay_ms", full / 1000, "ms")
    figure("full_replay_per_act_us", full / (args.acts + 1), "us")


if __name__ == "__main__":
    main()
