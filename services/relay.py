"""The relay: outbox rows → RabbitMQ, after the transaction that wrote them has committed.

One relay publishes at a time: each pass takes a transaction-level advisory lock, and a replica
that cannot get it does nothing this pass (a hot standby). Two replicas claiming disjoint
batches with ``SKIP LOCKED`` could otherwise publish a workflow's later event (in one batch)
before its earlier one (in the other). The holder claims the oldest unsent rows in outbox order
and publishes them persistent, with ``message_id`` = the outbox message id, in waves
(``services.bus.ordered_publish``): the confirms of a batch are awaited together, and a
workflow's next event is sent only once the one before it is confirmed. Only confirmed rows are
marked sent, in the transaction that claimed them; a nacked or returned row stays unsent with
what follows it in its workflow, and is published first on the next pass (after a back-off).

A crash after a publish and before the commit publishes those rows again on the next pass:
consumers deduplicate by message id, so an event is delivered at least once and applied once.
"""

from __future__ import annotations

import logging

import asyncpg
from faststream.rabbit import RabbitExchange

from services.bus.ordered_publish import Publication, publish_in_order
from services.bus.polling import OnPass, poll
from services.bus.publisher import Publisher
from services.bus.topology import Topology
from services.store.canonical import canonical_json

log = logging.getLogger(__name__)

#: Rows claimed per pass (``EQUITYFLOW_RELAY_BATCH``). A pass takes as many waves as the most
#: events one workflow has in it, and a transition writes its events side by side (a ROFR's
#: notice writes three, its exercise four): at 100 rows a pass held about 15 workflows, so
#: each wave's confirms were shared by 15 messages, and the relay trailed the engines by 7-14 s
#: per 10,000 commands (benchmarks/through_broker.py). At 1,000 a wave holds about 150. Only one
#: relay publishes at a time, so the rows' locks, held for the pass, stop no one else.
DEFAULT_BATCH_SIZE = 1000

# Any constant shared by every relay of the database: "the relay is publishing".
_RELAY_LOCK = 0x6571_7569_7479  # "equity"
_CLAIM = """
SELECT id, company_id, workflow_id, exchange, routing_key, message_id, body FROM outbox
WHERE sent_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE
"""


def _publications(rows: list[asyncpg.Record], topology: Topology) -> list[Publication[int]]:
    # Each exchange named once a batch: the topology builds its exchanges anew on every call.
    exchanges = {name: topology.exchange(name) for name in {row["exchange"] for row in rows}}
    return [_publication(row, exchanges[row["exchange"]], topology) for row in rows]


def _publication(
    row: asyncpg.Record, exchange: RabbitExchange, topology: Topology
) -> Publication[int]:
    # Company-wide rows (no workflow, e.g. a signed checkpoint) keep their order per company.
    key = row["workflow_id"] or ("company", row["company_id"])
    return Publication(
        ref=row["id"],
        key=key,
        body=canonical_json(row["body"]).encode(),
        exchange=exchange,
        routing_key=topology.outbox_routing_key(row["exchange"], row["routing_key"], row["body"]),
        message_id=row["message_id"],
    )


async def relay_once(
    pool: asyncpg.Pool,
    publisher: Publisher,
    topology: Topology,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> int:
    """Publish one batch of unsent outbox rows; return how many were confirmed and marked sent.

    Raises the first publish failure after committing the rest, so the loop backs off.
    """
    async with pool.acquire() as connection:
        async with connection.transaction():
            if not await connection.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0  # another relay is publishing
            rows = await connection.fetch(_CLAIM, batch_size)
            published = await publish_in_order(publisher, _publications(rows, topology))
            if published.confirmed:
                # The database's clock, not the application's: sent_at is bookkeeping, not law.
                await connection.execute(
                    "UPDATE outbox SET sent_at = now() WHERE id = ANY($1::bigint[])",
                    published.confirmed,
                )
        if published.failed:
            log.warning(
                "relay: %d of %d events not confirmed, %d held back behind them; retried next",
                len(published.failed), len(rows), len(published.held_back),
            )  # fmt: skip
        published.raise_first_failure()
    return len(published.confirmed)


async def run_relay(
    pool: asyncpg.Pool,
    publisher: Publisher,
    topology: Topology,
    *,
    poll_interval: float = 0.5,
    batch_size: int = DEFAULT_BATCH_SIZE,
    on_pass: OnPass | None = None,
) -> None:
    """Relay until cancelled: batch after batch while there is work, then poll with back-off.

    ``on_pass`` is called after each completed pass (``services.bus.polling.poll``)."""
    await poll(
        lambda: relay_once(pool, publisher, topology, batch_size),
        batch_size,
        poll_interval,
        "relay",
        on_pass,
    )
