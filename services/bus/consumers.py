"""The thin consumers: parse the body, call the service, ack after its transaction commits.

Acknowledgement is manual, so a message is acked only once its effects are committed:
- parsed and applied (or refused, or a duplicate) → ack (the engine's on RabbitMQ: a run of
  committed deliveries with one ack, ``services.bus.acks``);
- unusable (over ``max_bytes``, malformed JSON, schema-invalid, unknown workflow type, or
  refused by the database for what it holds: ``services.bus.failures``) → dead-lettered at once
  with its reason, then ack: it would fail the same way on every delivery (if the dead letter
  cannot be published, say nothing is bound to receive it, the message is nacked instead, never
  dropped);
- any other failure (the database is down, a deadlock retried out) → retried. The notices
  consumer waits, then nacks with requeue, and the quorum queue's delivery limit parks a
  message that never succeeds in the dead-letter queue. The engine consumer keeps the message
  in its place and tries it again (``services.bus.engine_feed``): requeued, it would come back
  behind later messages of its workflow. A service told to stop cuts the wait short.

On RabbitMQ the consumers hear only senders they trust (``services.bus.auth``): the engine takes
a message only within its sender's grant (``services.integrations.authorise``), the notices
service only events a services' user published; anything else is dead-lettered with the reason.

The engine applies its messages in batches, one transaction each, the messages of one workflow
strictly in the order they arrived (``services.bus.engine_feed``): two commands sent back to
back apply in the order sent, while other workflows go on in parallel.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

import asyncpg
from faststream.middlewares import AckPolicy
from faststream.rabbit import Channel, RabbitBroker, RabbitQueue

from services.bus.acks import EngineAcks
from services.bus.auth import SENDER_HEADER, Gate
from services.bus.dead_letters import (
    MAX_RETRY_DELAY,
    DeadLetter,
    back_off,
    delivery_count,
    unrecorded_reason,
)
from services.bus.engine_feed import LEAVE, Delivery, Feed
from services.bus.engine_queues import EngineQueues
from services.bus.failures import permanent_reason, too_large
from services.bus.poison import PoisonMessage, dead_letter, parse_engine_message
from services.bus.publisher import BrokerPublisher, Publisher
from services.bus.timer_bundles import settle_bundle
from services.bus.topology import ROUTING_KEY_HEADER, Topology
from services.clock import Clock
from services.engine import apply_batch
from services.engine.outcome import Held, Outcome
from services.integrations import authorise
from services.notices import record_event
from workflows.messages import TimerBundle

log = logging.getLogger(__name__)

#: Unacknowledged messages per consumer: enough to keep a replica busy, few enough that the
#: work spreads over every replica of the service.
PREFETCH = 16
#: Messages the engine applies in one transaction (``EQUITYFLOW_ENGINE_BATCH``; measured with
#: benchmarks/engine_throughput.py, docs/design.md).
DEFAULT_ENGINE_BATCH = 128
#: Batches the engine applies at once (of different workflows; the default of
#: ``EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT``), and its prefetch in batches: one batch is written
#: while the next is planned and a third arrives.
ENGINE_BATCHES_IN_FLIGHT = 2
ENGINE_PREFETCH_BATCHES = 3
#: How long a stopping engine waits for the batches it is applying (the database may be down).
HAND_BACK_GRACE = 15.0
DEFAULT_MAX_BYTES = 256 * 1024  # Settings.max_message_bytes

# (body, the routing key it was published with, its authenticated sender) → None; raises
# PoisonMessage (or a permanent error, ``services.bus.failures``) for a message to dead-letter.
Handle = Callable[[bytes, str, str | None], Awaitable[None]]
#: Installed on a broker, a consumer may return how it hands its work back before the broker
#: stops (``running_bus`` awaits it first).
HandBack = Callable[[], Awaitable[None]]
Consumer = Callable[[RabbitBroker, Topology, Publisher, Gate], HandBack | None]


async def raw_body(message: Any) -> bytes:
    """Hand the handler the body as received: parsing (and its failure) is the handler's job."""
    body: bytes = message.body
    return body


async def whole_message(message: Any) -> Any:
    """Hand the handler the whole message (body, headers, ack) as its one argument: asked for
    by annotation, FastStream resolves it from its context in a worker thread, a round trip
    between threads for every message (measured: about 40% of FastStream's cost per message)."""
    return message


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
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_acked: Callable[[], None] | None = None,
) -> None:
    """Consume ``queue`` (bound to ``exchange`` by its routing key) with ``handle``.

    ``on_acked``, if given, is called after each message is acked (handled, or dead-lettered):
    a test can wait until every message it sent is done with, rather than a fixed time."""

    async def consume(message: Any) -> None:
        body, raw = message.body, message.raw_message
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
            delay = min(retry_delay * 2 ** delivery_count(message), MAX_RETRY_DELAY)
            log.exception("%s: %s failed; retrying in %.1fs", queue.name, message.message_id, delay)
            await _back_off(delay)
            await message.nack(requeue=True)
            raise
        await message.ack()
        if on_acked is not None:
            on_acked()

    async def _back_off(delay: float) -> None:
        await back_off(delay, lambda: subscriber.running)

    subscriber = broker.subscriber(
        queue,
        exchange,
        channel=channel or Channel(prefetch_count=PREFETCH),
        ack_policy=AckPolicy.MANUAL,
        decoder=whole_message,
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
    batch_size: int = DEFAULT_ENGINE_BATCH,
    in_flight: int = ENGINE_BATCHES_IN_FLIGHT,
    retry_delay: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> Consumer:
    """Commands and timers from the engine queues → ``services.engine.apply_batch``.

    Up to ``batch_size`` messages are applied in one transaction (``services.bus.engine_feed``
    forms the batches, from every queue this process is active on), ``in_flight`` batches at
    once, each message acked once its batch has committed: on RabbitMQ, a run of them with one
    ack (``services.bus.acks``). Each engine queue has a single active consumer: one process
    applies its messages, in queue order, and
    the others stand by, each taking over when the one before it goes away, with the messages
    it had not acked back at the head of the queue in their order.

    On RabbitMQ each queue is consumed once, on a channel of its own (its ``command`` and
    ``timer`` bindings lead to it): its delivery tags are then the queue's order; the shards
    spread over the processes (``services.bus.engine_queues``). A process told to stop finishes
    the batches it is applying, then closes its channels without cancelling its consumers
    first: cancelled, RabbitMQ would hand a standby the next messages while this channel still
    held earlier ones of the same workflows; closed, it takes the consumer away and puts back
    what was not acked, at the head of the queue, in one step.
    """

    def install(
        broker: RabbitBroker, topology: Topology, publisher: Publisher, gate: Gate
    ) -> HandBack:
        async def apply(deliveries: Sequence[Delivery]) -> list[Any]:
            results: list[Any] = [None] * len(deliveries)
            allowed: list[int] = []
            failed: set[Hashable] = set()
            for n, d in enumerate(deliveries):
                if d.key in failed:
                    results[n] = Held("behind a message of its workflow that failed")
                    continue
                try:
                    await authorise(pool, gate, d.sender, d.message)
                    allowed.append(n)
                except Exception as error:  # refused (poison), or the database is down
                    results[n] = error
                    if permanent_reason(error) is None:
                        failed.add(d.key)
            messages = [deliveries[n].message for n in allowed]
            applied = await apply_batch(pool, messages, clock, catalog)
            for n, result in zip(allowed, applied, strict=True):
                results[n] = result
            return results

        stopping = False
        handlers: set[asyncio.Task[Any]] = set()  # each holds one delivery
        acks = EngineAcks()  # what a handler settles, it tells ``acks``: see services.bus.acks
        feed = Feed(
            apply,
            batch_size=batch_size,
            in_flight=in_flight,
            retry_delay=retry_delay,
            max_attempts=topology.delivery_limit,
        )

        async def consume_in_memory(message: Any) -> None:  # through FastStream
            await receive(message, message.raw_message, None, topology.engine_queue.name)

        async def consume(message: Any, source: Hashable, queue: str) -> None:  # on RabbitMQ
            await receive(message, message, source, queue)

        async def receive(message: Any, raw: Any, source: Hashable, queue: str) -> None:
            # A message sent back by redrive arrives under its queue's name; the header keeps
            # the key it was first published with.
            published_as = raw.headers.get(ROUTING_KEY_HEADER) or raw.routing_key or ""
            if isinstance(published_as, bytes):
                published_as = published_as.decode(errors="replace")
            tag = raw.delivery_tag if source is not None else None
            if not running():  # stopping: left unacked, handed back in order
                feed.arrived(tag, source)
                acks.left(message, tag)
                return
            task = asyncio.current_task()
            assert task is not None  # each delivery runs in a task of its own
            handlers.add(task)
            try:
                await handle(message, raw, tag, source, queue, str(published_as))
            finally:
                handlers.discard(task)

        async def handle(
            message: Any, raw: Any, tag: int | None, source: Hashable, queue: str, published_as: str
        ) -> None:
            body: bytes = message.body
            sender = gate.sender(raw.user_id, raw.headers)
            dead = DeadLetter(publisher, topology, queue, body, raw, sender, retry_delay, running)
            try:  # nothing awaited before ``submit``: deliveries register in arrival order
                if (oversized := too_large(body, max_bytes)) is not None:
                    raise oversized
                parsed = parse_engine_message(body, published_as)
            except PoisonMessage as poison:
                feed.arrived(tag, source)
                await dead.send(message, str(poison))
                acks.settled(message, tag)
                return
            if isinstance(parsed, TimerBundle):  # many timers: each a delivery of its own
                if not gate.is_service(sender):  # as ``authorise`` rules for each timer
                    feed.arrived(tag, source)
                    await dead.send(message, _untrusted_bundle(sender))
                    acks.settled(message, tag)
                    return
                timers = [(t.workflow_id, t) for t in parsed.timers]
                deliveries = feed.submit_all(timers, sender, tag, source)
                settled = await settle_bundle(message, deliveries, feed, dead)
                if settled == "ack":
                    await acks.committed(message, tag)
                elif settled == "left":
                    acks.left(message, tag)
                else:
                    acks.settled(message, tag)
                return
            delivery = feed.submit(parsed.workflow_id, parsed, sender, tag, source)
            result = await feed.result(delivery)
            if result is LEAVE:
                acks.left(message, tag)
                return
            if isinstance(result, Outcome):
                if not result.recorded:  # a company that does not exist: nothing kept
                    await dead.send(message, unrecorded_reason(result))
                    acks.settled(message, tag)
                    return
                await acks.committed(message, tag)
                return
            reason = permanent_reason(result)
            if reason is not None:
                await dead.send(message, reason)
                acks.settled(message, tag)
                return
            log.error(
                "%s: %s failed %d times (%s: %s); rejected: RabbitMQ parks it in the "
                "dead-letter queue",
                queue, raw.message_id, topology.delivery_limit, type(result).__name__, result,
            )  # fmt: skip
            await message.reject(requeue=False)
            acks.settled(message, tag)

        def running() -> bool:
            return not stopping and all(s.running for s in subscribers)

        async def hand_back() -> None:
            nonlocal stopping
            stopping = True
            try:
                async with asyncio.timeout(HAND_BACK_GRACE):
                    await feed.stop()
                    while handlers:  # each acks what its batch committed
                        await asyncio.wait(set(handlers))
            except TimeoutError:  # what commits after this comes back as duplicates: no harm
                log.warning("engine: batches still applying after %.0f s; handing back what "
                            "it holds", HAND_BACK_GRACE)  # fmt: skip
            if queues is not None:
                await queues.stop()

        subscribers: list[Any] = []
        prefetch = max(PREFETCH, ENGINE_PREFETCH_BATCHES * batch_size)
        queues: EngineQueues | None = None
        if not isinstance(publisher, BrokerPublisher):
            # In memory, FastStream routes a message to a subscriber by its routing key: one
            # subscriber per kind (and the documentation lists them).
            for queue in topology.engine_subscriptions:
                kind = queue.routing_key.split(".")[0]
                subscriber = broker.subscriber(
                    queue,
                    topology.commands_exchange,
                    channel=Channel(prefetch_count=prefetch),
                    ack_policy=AckPolicy.MANUAL,
                    decoder=whole_message,
                    no_reply=True,
                    title=f"engine:{kind}",
                    description=_ENGINE_SUBSCRIPTIONS[kind],
                )
                subscriber(consume_in_memory)
                subscribers.append(subscriber)
            return hand_back
        # On RabbitMQ, every engine queue on a channel of its own (``services.bus.engine_queues``).
        queues = EngineQueues(topology, feed, consume, prefetch=prefetch)
        return EngineService(hand_back, queues.start)

    return install


_APPLIED = "once (by message id), the messages of one workflow in arrival order, in batches."
_ENGINE_SUBSCRIPTIONS = {
    "command": f"The engine applies each command message {_APPLIED}",
    "timer": f"The engine applies each timer message {_APPLIED}",
    "timers": "The engine applies each timer of a bundle (from the deadlines service) as a timer "
    f"message of its own, in the bundle's order, {_APPLIED} The bundle is acknowledged once "
    "each of its timers is applied or dead-lettered alone.",
}


def _untrusted_bundle(sender: str | None) -> str:
    return (
        f"unauthorised: RabbitMQ user {sender!r} sent a bundle of timer messages; timer "
        "messages come only from the equityflow deadlines service"
    )


@dataclass(frozen=True)
class EngineService:
    """What an engine consumer on RabbitMQ returns: how it hands its work back (called like a
    ``HandBack``), and how it starts consuming, on a connection of its own, once the broker
    has declared the topology (``services.bus.runner.running_bus`` calls it with the URL)."""

    hand_back: HandBack
    start: Callable[[str], Awaitable[None]]

    async def __call__(self) -> None:
        await self.hand_back()


def notices_consumer(
    pool: asyncpg.Pool,
    clock: Clock,
    *,
    retry_delay: float = 0.5,
    max_bytes: int = DEFAULT_MAX_BYTES,
    on_acked: Callable[[], None] | None = None,
) -> Consumer:
    """Events from the notices queue → the notice register (``services.notices``); ``on_acked``
    is called after each event is acked (``subscribe``)."""

    def install(broker: RabbitBroker, topology: Topology, publisher: Publisher, gate: Gate) -> None:
        async def handle(body: bytes, _routing_key: str, sender: str | None) -> None:
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
            on_acked=on_acked,
        )  # fmt: skip

    return install
