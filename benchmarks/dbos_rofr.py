"""The ROFR's shape as a DBOS workflow, for ``rofr_vs_dbos.py`` (run in DBOS's own environment).

notice (a step) → the election window (a durable sleep) → its expiry (a step) → the sale window
(a durable sleep) → its expiry (a step): what equityflow does with a command and two timers,
each step checkpointed in PostgreSQL. The sleeps last ``--sleep`` seconds (default 0: like the
equityflow side, whose deadlines are already due). Prints one JSON line with the result.

This file imports DBOS and the standard library only: it runs in a virtual environment of its
own, never in the project's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

from dbos import DBOS, DBOSConfig


@DBOS.step()
async def receive_notice(i: int) -> dict[str, object]:
    return {"workflow": i, "state": "election_window", "shares": 100}


@DBOS.step()
async def expire_election(i: int) -> dict[str, object]:
    return {"workflow": i, "state": "owner_sale_window"}


@DBOS.step()
async def expire_sale_window(i: int) -> dict[str, object]:
    return {"workflow": i, "state": "rofr_reattached"}


@DBOS.workflow()
async def rofr(i: int, pause: float) -> str:
    await receive_notice(i)
    await DBOS.sleep_async(pause)
    await expire_election(i)
    await DBOS.sleep_async(pause)
    done = await expire_sale_window(i)
    return str(done["state"])


async def run(size: int, pause: float, in_flight: int) -> dict[str, object]:
    began = time.perf_counter()
    handles = []
    for low in range(0, size, in_flight):
        starts = (
            DBOS.start_workflow_async(rofr, i, pause)
            for i in range(low, min(size, low + in_flight))
        )
        handles += await asyncio.gather(*starts)
    states = await asyncio.gather(*(h.get_result() for h in handles))
    seconds = time.perf_counter() - began
    return {"seconds": seconds, "final": sum(1 for s in states if s == "rofr_reattached")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--url", required=True, help="PostgreSQL database for DBOS's tables")
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--in-flight", type=int, default=500, help="starts awaited at once")
    args = parser.parse_args()
    config: DBOSConfig = {
        "name": "rofr-benchmark",
        "system_database_url": args.url,
        "log_level": "WARNING",
    }
    DBOS(config=config)
    DBOS.launch()
    try:
        result = asyncio.run(run(args.size, args.sleep, args.in_flight))
    finally:
        DBOS.destroy()
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
