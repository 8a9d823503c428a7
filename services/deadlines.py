"""The deadlines service: due timer rows → timer messages to the engine.

No timer lives in memory or in the broker: every deadline is a row (``timers``) with who must
act, by when, under which clause and why that date. Each pass claims the pending timers due at
the clock's current time with ``FOR UPDATE SKIP LOCKED``, publishes one ``TimerMessage`` each
(``message_id`` = the timer id, routing key ``timer.<workflow_type>.<name>``) with publisher
confirms, marks them fired and commits. Replicas skip each other's locked rows, so each due
timer is claimed by one of them; a crash before the commit fires the timer again with the same
message id, which the engine applies once.
"""

from __future__ import annotations

import asyncpg

from services.bus.polling import poll
from services.bus.publisher import Publisher
from services.bus.topology import Topology
from services.clock import Clock
from workflows.messages import TimerMessage, timer_routing_key

_CLAIM = """
SELECT timer_id, workflow_id, company_id, workflow_type, name, due_at FROM timers
WHERE status = 'pending' AND due_at <= $1
ORDER BY due_at, timer_id LIMIT $2 FOR UPDATE SKIP LOCKED
"""


async def fire_due_timers(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    batch_size: int = 100,
) -> int:
    """Fire one batch of due timers; return how many fired."""
    # Read before taking a connection: the simulated clock needs one of its own.
    now = await clock.now()
    async with pool.acquire() as connection, connection.transaction():
        rows = await connection.fetch(_CLAIM, now, batch_size)
        for row in rows:
            message = TimerMessage(
                message_id=str(row["timer_id"]),
                company_id=row["company_id"],
                workflow_id=row["workflow_id"],
                workflow_type=row["workflow_type"],
                timer=row["name"],
                due_at=row["due_at"],
            )
            await publisher.publish(
                message.model_dump_json().encode(),
                exchange=topology.commands_exchange,
                routing_key=timer_routing_key(message.workflow_type, message.timer),
                message_id=message.message_id,
            )
        if rows:
            await connection.execute(
                "UPDATE timers SET status = 'fired', fired_at = $2 "
                "WHERE timer_id = ANY($1::uuid[]) AND status = 'pending'",
                [r["timer_id"] for r in rows],
                now,
            )
    return len(rows)


async def run_deadlines(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    *,
    poll_interval: float = 0.5,
    batch_size: int = 100,
) -> None:
    """Fire due timers until cancelled."""
    await poll(
        lambda: fire_due_timers(pool, clock, publisher, topology, batch_size),
        batch_size,
        poll_interval,
        "deadlines",
    )
