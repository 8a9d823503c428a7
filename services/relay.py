"""The relay: outbox rows → RabbitMQ, after the transaction that wrote them has committed.

Each pass claims a batch of unsent rows with ``FOR UPDATE SKIP LOCKED`` (so N replicas share
the work and never publish the same row concurrently), publishes each one persistent, with
publisher confirms and ``message_id`` = the outbox message id, marks the batch sent and commits.
A crash after a publish and before the commit publishes those rows again on the next pass:
consumers deduplicate by message id, so an event is delivered at least once and applied once.
"""

from __future__ import annotations

import asyncpg

from services.bus.polling import poll
from services.bus.publisher import Publisher
from services.bus.topology import Topology
from services.store.canonical import canonical_json

_CLAIM = """
SELECT id, exchange, routing_key, message_id, body FROM outbox
WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED
"""


async def relay_once(
    pool: asyncpg.Pool, publisher: Publisher, topology: Topology, batch_size: int = 100
) -> int:
    """Publish one batch of unsent outbox rows; return how many were sent."""
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(_CLAIM, batch_size)
        for row in rows:
            await publisher.publish(
                canonical_json(row["body"]).encode(),
                exchange=topology.exchange(row["exchange"]),
                routing_key=row["routing_key"],
                message_id=row["message_id"],
            )
        if rows:
            # The database's clock, not the application's: sent_at is bookkeeping, not law.
            await connection.execute(
                "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                [r["id"] for r in rows],
            )
    return len(rows)


async def run_relay(
    pool: asyncpg.Pool,
    publisher: Publisher,
    topology: Topology,
    *,
    poll_interval: float = 0.5,
    batch_size: int = 100,
) -> None:
    """Relay until cancelled: batch after batch while there is work, then poll with back-off."""
    await poll(
        lambda: relay_once(pool, publisher, topology, batch_size),
        batch_size,
        poll_interval,
        "relay",
    )
