"""The relay alone: events/s from a full outbox to RabbitMQ, by batch size.

N events (W workflows, N/W events each, interleaved as concurrent transactions write them) are
put in the outbox; the relay (``relay_once``, the service's own pass) drains it to a namespace of
its own, once per batch size, and once more publishing one message at a time (each confirm
awaited before the next is sent, as the relay did before batching). This is how the default of
``EQUITYFLOW_RELAY_BATCH`` was chosen.

    uv run python benchmarks/relay_batches.py --size 20000 --batches 100,250,500,1000
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from harness import (
    arguments,
    figure,
    load_average,
    machine_context,
    quiet_logs,
    run,
    say,
    scratch_database,
    scratch_namespace,
    server_amqp_url,
)


class OneAtATime:
    """The publisher, but never two publishes awaiting their confirms at once."""

    def __init__(self, inner: Any) -> None:
        self.inner, self.lock = inner, asyncio.Lock()

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        async with self.lock:
            await self.inner.publish(body, **kwargs)


async def fill(pool: Any, size: int, workflows: int) -> None:
    owners = [uuid.uuid4() for _ in range(workflows)]
    await pool.execute("TRUNCATE outbox")
    await pool.executemany(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "VALUES ('acme', $1, 'events', 'event.rofr.benchmark_happened', $2, $3)",
        [
            (owners[i % workflows], str(uuid.uuid4()), {"n": i, "pad": "x" * 600})
            for i in range(size)
        ],
    )


async def drain(pool: Any, publisher: Any, topology: Any, batch: int) -> float:
    from services.relay import relay_once

    began = time.perf_counter()
    while await relay_once(pool, publisher, topology, batch):
        pass
    return time.perf_counter() - began


async def main() -> None:
    from services.bus.runner import running_bus
    from services.bus.topology import Topology
    from services.store.db import connect

    args = parser.parse_args()
    say(f"load average: {load_average()}")
    async with scratch_database() as url, scratch_namespace() as namespace:
        await machine_context(url, with_broker=True)
        pool = await connect(url, max_size=2)
        topology = Topology(namespace)
        try:
            async with running_bus(server_amqp_url(), topology) as bus:
                runs: list[tuple[str, Any, int]] = [
                    ("one_at_a_time", OneAtATime(bus.publisher), 100)
                ]
                runs += [(f"batch_{b}", bus.publisher, b) for b in args.batches]
                for name, publisher, batch in runs:
                    await fill(pool, args.size, args.workflows)
                    seconds = await drain(pool, publisher, topology, batch)
                    figure(f"{name}_events_per_second", args.size / seconds, "/s")
                    await _purge(topology)
        finally:
            await pool.close()
    say(f"load average: {load_average()}")


async def _purge(topology: Any) -> None:
    """Empty this namespace's own notices queue, so that each run starts alike."""
    import aio_pika

    connection = await aio_pika.connect(server_amqp_url(), timeout=10)
    try:
        channel = await connection.channel()
        for queue in topology.queues:
            await (await channel.get_queue(queue.name)).purge()
    finally:
        await connection.close()


def _sizes(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


parser = arguments(
    __doc__.split("\n")[0],
    default_size=20_000,
    workflows=(int, 2_000, "workflows the events belong to (W)"),
    batches=(_sizes, "100,250,500,1000", "batch sizes to try, comma-separated"),
)

if __name__ == "__main__":
    quiet_logs()
    run(main, parser.parse_args().max_seconds)
