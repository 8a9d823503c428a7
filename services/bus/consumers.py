"""The thin consumers: parse the body, call the service, ack after its transaction commits.

Acknowledgement is manual, so a message is acked only once its effects are committed:
- parsed and applied (or refused, or a duplicate) → ack;
- unusable (over ``max_bytes``, malformed JSON, schema-invalid, unknown workflow type, or
  refused by the database for what it holds: ``services.bus.failures``) → dead-lettered at once
  with its reason, then ack: it would fail the same way on every delivery (if the dead letter
  cannot be published, say nothing is bound to receive it, the message is nacked instead, never
  dropped);
- any other failure (the database is down, a deadlock retried out) → wait, then nack with
  requeue, so it is retried; the quorum queue's delivery limit parks a message that never
  succeeds in the dead-letter queue. A service told to stop cuts the wait short.

On RabbitMQ the consumers hear only senders they trust (``services.bus.auth``): the engine takes
a message only within its sender's grant (``services.integrations.authorise``), the notices
service only events a services' user published; anything else is dead-lettered with the reason.

A consumer handles up to ``PREFETCH`` messages at once, but the engine takes the messages of one
workflow one at a time, in the order they arrived (``InArrivalOrder``): two commands sent back
to back apply in the order sent, while other workflows go on in parallel.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue
from faststream.rabbit.annotations import RabbitMessage

from services.bus.auth import SENDER_HEADER, Gate
from services.bus.failures import permanent_reason, too_large
from services.bus.poison import PoisonMessage, dead_letter, parse_engine_message
from services.bus.publisher import Publisher
from services.bus.topology import ROUTING_KEY_HEADER, Topology
from services.clock import Clock

log = logging.getLogger(__name__)

#: Unacknowledged messages per consumer: enough to keep a replica busy, few enough that the
#: work spreads over every replica of the service.
PREFETCH = 16
MAX_RETRY_DELAY = 30.0
DEFAULT_MAX_BYTES = 256 * 1024  # Settings.max_message_bytes

# (body, the routing key it was published with, its authenticated sender) → None; raises
# PoisonMessage (or a permanent error, ``services.bus.failures``) for a message to dead-letter.
Handle = Callable[[bytes, str, str | None], Awaitable[None]]
OrderKey = Callable[[bytes], Hashable | None]  # messages with one key are handled in turn
Consumer = Callable[[RabbitBroker, Topology, Publisher, Gate], None]


@dataclass
class _Turns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # the message being handled and those waiting behind it


class InArrivalOrder:
    """One message per key at a time, in the order the messages arrived; other keys in parallel.

    A key's entry lives only while a message of that key is being handled or waiting, so memory
    stays bounded by the consumer's unacknowledged-message window. ``asyncio.Lock`` wakes its
    waiters first in, first out, and a message registers (synchronously) as soon as its handler
    starts: the client library starts one task per delivery, in delivery order, and nothing
    before the handler waits on I/O, so handlers start, and queue here, in delivery order.
    """

    def __init__(self) -> None:
        self._turns: dict[Hashable, _Turns] = {}

    def __len__(self) -> int:
        return len(self._turns)

    @asynccontextmanager
    async def turn(self, key: Hashable | None) -> AsyncIterator[None]:
        if key is None:  # nothing to order by (a message that will be dead-lettered)
            yield
            return
        turns = self._turns.get(key)
        if turns is None:
            turns = self._turns[key] = _Turns()
        turns.holders += 1
        try:
            async with turns.lock:
                yield
        finally:
            turns.holders -= 1
            if turns.holders == 0:
                del self._turns[key]


def workflow_key(body: bytes) -> Hashable | None:
    """The workflow a command or timer message is for; None if the body does not say."""
    try:
        data = json.loads(body)
        return uuid.UUID(str(data["workflow_id"]))
    except (ValueError, TypeError, KeyError):
        return None


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
    gate: Gate,
    title: str,
    description: str,
    retry_delay: float,
    channel: Channel | None = None,
    order: InArrivalOrder | None = None,
    order_key: OrderKey | None = None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> None:
    """Consume ``queue`` (bound to ``exchange`` by its routing key) with ``handle``.

    With ``order`` and ``order_key``, messages of one key are handled (and acked, or nacked)
    one after the other in arrival order; the turn is taken before anything is awaited.
    """

    async def consume(body: bytes, message: RabbitMessage) -> None:
        if order is None or order_key is None or len(body) > max_bytes:  # never parse those
            await _consume(body, message)
            return
        async with order.turn(order_key(body)):
            await _consume(body, message)

    async def _consume(body: bytes, message: RabbitMessage) -> None:
        raw = message.raw_message
        # A message sent back by redrive arrives under its queue's name; the header keeps the
        # key it was first published with.
        published_as = raw.headers.get(ROUTING_KEY_HEADER) or raw.routing_key or ""
        if isinstance(published_as, bytes):
            published_as = published_as.decode(errors="replace")
        if not subscriber.running:  # stopping: leave it to the next consumer, untouched
            await message.nack(requeue=True)
            return
        sender = gate.sender(raw.user_id, raw.headers)
        try:
            try:
                if (oversized := too_large(body, max_bytes)) is not None:
                    raise oversized
                await handle(body, str(published_as), sender)
            except Exception as error:
                poison = permanent_reason(error)
                if poison is None:
                    raise
                log.warning("dead-lettering %s from %s: %s", message.message_id, queue.name, poison)
                await dead_letter(
                    publisher,
                    topology,
                    body=body,
                    routing_key=raw.routing_key or "",
                    message_id=raw.message_id,
                    source_queue=queue.name,
                    reason=poison,
                    # Republished by this service: whom it came from travels in a header.
                    headers={**raw.headers, SENDER_HEADER: sender or ""},
                )
        except Exception:
            delay = min(retry_delay * 2 ** _delivery_count(message), MAX_RETRY_DELAY)
            log.exception("%s: %s failed; retrying in %.1fs", queue.name, message.message_id, delay)
            await _back_off(delay)
            await message.nack(requeue=True)
            raise
        await message.ack()

    async def _back_off(delay: float) -> None:
        """Wait ``delay``, but no longer than the subscriber runs: a service told to stop
        (SIGTERM) hands back the messages it is backing off at once, instead of sleeping on
        them while the broker waits for its handlers."""
        loop = asyncio.get_running_loop()
        until = loop.time() + delay
        # FastStream signals a stop only by this flag (no event to wait on): poll it.
        while subscriber.running and (left := until - loop.time()) > 0:  # noqa: ASYNC110
            await asyncio.sleep(min(left, 0.1))

    subscriber = broker.subscriber(
        queue,
        exchange,
        channel=channel or Channel(prefetch_count=PREFETCH),
        ack_policy=AckPolicy.MANUAL,
        decoder=raw_body,
        no_reply=True,
        title=title,
        description=description,
    )
    subscriber(consume)


def engine_consumer(
    pool: asyncpg.Pool,
    clock: Clock,
    catalog: Any,
    *,
    retry_delay: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Consumer:
    """Commands and timers from the engine queue → ``services.engine.apply``."""

    def install(broker: RabbitBroker, topology: Topology, publisher: Publisher, gate: Gate) -> None:
        async def handle(body: bytes, routing_key: str, sender: str | None) -> None:
            from services.engine import apply
            from services.integrations import authorise

            message = parse_engine_message(body, routing_key)
            await authorise(pool, gate, sender, message)
            outcome = await apply(pool, message, clock, catalog)
            if not outcome.recorded:  # a company that does not exist: nothing kept, say why here
                refusal = outcome.refusal or {}
                raise PoisonMessage(f"{refusal.get('rule')}: {refusal.get('reason')}")

        # Both subscriptions of the engine queue share one channel and one ordering: RabbitMQ
        # delivers a queue's messages to one channel in queue order (two channels could
        # interleave them), and the messages of one workflow then apply one at a time in that
        # order. Across replicas this is best effort: each replica orders what it receives,
        # but two messages of one workflow delivered to two replicas race for the row lock
        # (the lock keeps that safe, not ordered), and a message nacked for a retry comes
        # back after the ones behind it. Send the next command after the last one's event for
        # a strict order.
        channel = Channel(prefetch_count=PREFETCH)
        order = InArrivalOrder()
        for queue in topology.engine_subscriptions:
            kind = queue.routing_key.split(".")[0]
            subscribe(
                broker, topology, publisher, queue, topology.commands_exchange, handle,
                gate=gate,
                title=f"engine:{kind}",
                description=f"The engine applies each {kind} message once (by message id), "
                "the messages of one workflow in arrival order.",
                retry_delay=retry_delay,
                channel=channel,
                order=order,
                order_key=workflow_key,
                max_bytes=max_bytes,
            )  # fmt: skip

    return install


def notices_consumer(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    retry_delay: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Consumer:
    """Events from the notices queue → the notice register (``services.notices``)."""

    def install(broker: RabbitBroker, topology: Topology, publisher: Publisher, gate: Gate) -> None:
        async def handle(body: bytes, _routing_key: str, sender: str | None) -> None:
            from services.notices import record_event

            if not gate.is_service(sender):
                # Only the relay publishes events: a deadline anyone else announces is forged.
                raise PoisonMessage(
                    f"untrusted: an event published by RabbitMQ user {sender!r}; the notices "
                    "service records only events the equityflow relay published"
                )
            await record_event(pool, clock, body)

        subscribe(
            broker, topology, publisher, topology.notices_subscription, topology.events_exchange,
            handle,
            gate=gate,
            title="notices:events",
            description="Records notices and deadlines (who must act, by when, under which "
            "clause) and emits action_required events.",
            retry_delay=retry_delay,
            max_bytes=max_bytes,
        )  # fmt: skip

    return install
