"""The thin consumers: parse the body, call the service, ack after its transaction commits.

Acknowledgement is manual, so a message is acked only once its effects are committed:
- parsed and applied (or refused, or a duplicate) → ack;
- unparseable (malformed JSON, schema-invalid, unknown workflow type) → dead-lettered with its
  reason, then ack: it would fail the same way on every delivery;
- any other failure (the database is down, a deadlock retried out) → wait, then nack with
  requeue, so it is retried; the quorum queue's delivery limit parks a message that never
  succeeds in the dead-letter queue.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import asyncpg
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from services.bus.poison import PoisonMessage, dead_letter, parse_engine_message
from services.bus.publisher import Publisher
from services.bus.topology import Topology
from services.clock import Clock

log = logging.getLogger(__name__)

#: Unacknowledged messages per consumer: enough to keep a replica busy, few enough that the
#: work spreads over every replica of the service.
PREFETCH = 16
MAX_RETRY_DELAY = 30.0

Handle = Callable[[bytes], Awaitable[None]]  # raises PoisonMessage for a message to dead-letter
Consumer = Callable[[RabbitBroker, Topology, Publisher], None]


async def raw_body(message: Any) -> bytes:
    """Hand the handler the body as received: parsing (and its failure) is the handler's job."""
    body: bytes = message.body
    return body


def _delivery_count(message: RabbitMessage) -> int:
    # Quorum queues count earlier deliveries of a requeued message in this header.
    count = message.headers.get("x-delivery-count", 0)
    return int(count) if isinstance(count, int | str) and str(count).isdigit() else 0


def subscribe(
    broker: RabbitBroker,
    topology: Topology,
    publisher: Publisher,
    queue: RabbitQueue,
    exchange: Any,
    handle: Handle,
    *,
    title: str,
    description: str,
    retry_delay: float,
) -> None:
    """Consume ``queue`` (bound to ``exchange`` by its routing key) with ``handle``."""

    async def consume(body: bytes, message: RabbitMessage) -> None:
        raw = message.raw_message
        try:
            try:
                await handle(body)
            except PoisonMessage as poison:
                log.warning("dead-lettering %s from %s: %s", message.message_id, queue.name, poison)
                await dead_letter(
                    publisher,
                    topology,
                    body=body,
                    routing_key=raw.routing_key or "",
                    message_id=raw.message_id,
                    source_queue=queue.name,
                    reason=str(poison),
                )
        except Exception:
            delay = min(retry_delay * 2 ** _delivery_count(message), MAX_RETRY_DELAY)
            log.exception("%s: %s failed; retrying in %.1fs", queue.name, message.message_id, delay)
            await asyncio.sleep(delay)
            await message.nack(requeue=True)
            raise
        await message.ack()

    broker.subscriber(
        queue,
        exchange,
        channel=Channel(prefetch_count=PREFETCH),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_body,
        no_reply=True,
        title=title,
        description=description,
    )(consume)


def engine_consumer(
    pool: asyncpg.Pool, clock: Clock, catalog: Any, *, retry_delay: float = 0.5
) -> Consumer:
    """Commands and timers from the engine queue → ``services.engine.apply``."""

    async def handle(body: bytes) -> None:
        from services.engine import apply

        await apply(pool, parse_engine_message(body), clock, catalog)

    def install(broker: RabbitBroker, topology: Topology, publisher: Publisher) -> None:
        for queue in topology.engine_subscriptions:
            kind = queue.routing_key.split(".")[0]
            subscribe(
                broker, topology, publisher, queue, topology.commands_exchange, handle,
                title=f"engine:{kind}",
                description=f"The engine applies each {kind} message once (by message id).",
                retry_delay=retry_delay,
            )  # fmt: skip

    return install


def notices_consumer(pool: asyncpg.Pool, clock: Clock, *, retry_delay: float = 0.5) -> Consumer:
    """Events from the notices queue → the notice register (``services.notices``)."""

    async def handle(body: bytes) -> None:
        from services.notices import record_event

        await record_event(pool, clock, body)

    def install(broker: RabbitBroker, topology: Topology, publisher: Publisher) -> None:
        subscribe(
            broker, topology, publisher, topology.notices_subscription, topology.events_exchange,
            handle,
            title="notices:events",
            description="Records notices and deadlines (who must act, by when, under which "
            "clause) and emits action_required events.",
            retry_delay=retry_delay,
        )  # fmt: skip

    return install
