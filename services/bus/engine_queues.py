"""The engine's queues on RabbitMQ: every engine process consumes all of them, and the shards
spread over the processes.

Each engine queue (the intake and every shard, ``services.bus.topology``) has a single active
consumer: RabbitMQ delivers its messages to one consumer at a time, in queue order, and when
that consumer goes away (its channel closed, its process dead) gives the next one in line the
messages the first had not acknowledged, back at the head of the queue in their order, then the
rest. Every engine process consumes every queue, each on a channel of its own, so a survivor
takes over the queues of one that dies.

RabbitMQ makes active whichever consumer subscribed first, so the process that starts first
would hold every shard. Each process therefore counts the engine processes (the consumers of
a presence queue, one per process) and the shards it is busy with (those that delivered to it
lately); holding more than its fair share (shards ÷ processes, rounded up), it hands one back,
one every ``BALANCE_INTERVAL``: it stops taking that shard's messages into batches, waits for
the batches holding any to commit and be acknowledged, then closes the shard's channel, which
returns every message it had not acknowledged to the queue in order and makes the next process
in line active, in one step; then it subscribes again, last in line. The messages of a
workflow therefore never are in two processes at once, and stay in order.

A quorum queue counts each such return as a delivery (``x-delivery-count``; RabbitMQ 3.10 does,
measured), and dead-letters a message returned more often than its delivery limit
(``services.bus.topology``), although it never failed. So a process hands back only a shard
whose channel holds no message returned before (``x-delivery-count`` above 0): it applies those
first. A message then comes back from hand-backs once, not round after round; what else counts
is a failure, or a process stopping or dying while it holds the message.

A shard with nothing to deliver counts for no one: it goes to whoever is first in line when its
messages come, and is handed on if that one is then over its share.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractRobustChannel,
    AbstractRobustConnection,
)

from services.bus.engine_feed import Feed
from services.bus.topology import Topology

log = logging.getLogger(__name__)

#: Seconds between two looks at the balance (one shard handed back at most per look).
BALANCE_INTERVAL = 2.0
#: A shard that delivered to this process within this many seconds counts as one it holds.
BUSY_WINDOW = 5.0

#: What the engine does with a delivery, given the source (channel) it came on and its queue.
OnMessage = Callable[[AbstractIncomingMessage, Hashable, str], Awaitable[None]]


@dataclass(eq=False)
class _Subscription:
    queue: str
    shard: bool  # the intake is consumed like a shard, but never handed back
    channel: AbstractChannel | None = None  # None: not subscribed (subscribed again soon)
    last_delivery: float = -math.inf
    handlers: set[asyncio.Task[None]] = field(default_factory=set)
    returned: set[asyncio.Task[None]] = field(default_factory=set)  # of messages returned before


class EngineQueues:
    """Consumes every engine queue of ``topology`` on a connection of its own."""

    def __init__(
        self, topology: Topology, feed: Feed, on_message: OnMessage, *, prefetch: int
    ) -> None:
        self._topology, self._feed, self._on_message = topology, feed, on_message
        self._prefetch = prefetch
        self._subscriptions = [
            _Subscription(q.name, shard=q.name != topology.engine_queue.name)
            for q in topology.engine_queues
        ]
        self._presence = f"{topology.namespace}.engine-presence"
        self._connection: AbstractRobustConnection | None = None
        self._counting: AbstractRobustChannel | None = None
        self._balancing: asyncio.Task[None] | None = None

    async def start(self, amqp_url: str) -> None:
        """Subscribe to every queue, and keep the shards balanced until ``stop``. On failure
        nothing is left consuming: it may be called again."""
        self._connection = await aio_pika.connect_robust(amqp_url, timeout=10)
        try:
            for subscription in self._subscriptions:
                await self._subscribe(subscription)
            # Counted only once in line on every queue: a shard handed back goes to it.
            # Classic and auto-deleted: it holds no message, only a consumer per engine
            # process, which RabbitMQ counts (a single-active-consumer queue counts only the
            # active one). Counted on another channel: RabbitMQ's answer on the consumer's
            # own channel leaves that consumer out.
            present = await self._connection.channel(publisher_confirms=False)
            presence = await present.declare_queue(self._presence, auto_delete=True)
            await presence.consume(_ignore)
            self._counting = await self._connection.channel(publisher_confirms=False)
        except BaseException:
            await self._connection.close()
            raise
        self._balancing = asyncio.create_task(self._balance_forever(), name="engine-balance")

    async def stop(self) -> None:
        """Close every channel (the caller has let the batches being applied finish): what was
        not acknowledged goes back to its queue, in order, for the next engine in line."""
        if self._balancing is not None:
            self._balancing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._balancing
        if self._connection is not None:
            await self._connection.close()  # closes every channel first

    # -- consuming ---------------------------------------------------------------------------

    async def _subscribe(self, subscription: _Subscription) -> None:
        assert self._connection is not None
        channel = await self._connection.channel(publisher_confirms=False)
        source = channel  # the feed orders each channel's deliveries by their tags

        async def consume(message: AbstractIncomingMessage) -> None:
            if subscription.last_delivery == -math.inf:  # who holds which shard, for the log
                log.info("engine: applying what %s delivers", subscription.queue)
            subscription.last_delivery = asyncio.get_running_loop().time()
            task = asyncio.current_task()
            assert task is not None  # aio-pika runs each delivery in a task of its own
            subscription.handlers.add(task)
            if message.headers.get("x-delivery-count"):  # RabbitMQ has returned it before
                subscription.returned.add(task)
            try:
                await self._on_message(message, source, subscription.queue)
            finally:
                subscription.handlers.discard(task)
                subscription.returned.discard(task)

        try:
            await channel.set_qos(prefetch_count=self._prefetch)
            # Declared (passively: ``declare_topology`` made it), so that the robust channel
            # declares it and consumes again after a reconnection.
            queue = await channel.declare_queue(subscription.queue, passive=True)
            await queue.consume(consume)
        except BaseException:
            await channel.close()
            raise
        subscription.channel = channel

    async def _hand_back(self, subscription: _Subscription) -> None:
        """Give a shard to the next engine in line, then queue up behind it."""
        channel = subscription.channel
        assert channel is not None
        log.info("engine: handing %s to the next engine in line", subscription.queue)
        await self._feed.leave(channel)
        try:
            while subscription.handlers:  # each acks what its batch committed
                await asyncio.wait(set(subscription.handlers))
            # Closed, not cancelled: cancelled, RabbitMQ would give the next consumer the
            # messages after those this channel still holds; closed, it returns them first.
            await channel.close()
            subscription.channel = None
        finally:  # should the close fail, the channel goes on delivering, and is applied
            self._feed.forget(channel)
        subscription.last_delivery = -math.inf
        await self._subscribe(subscription)

    # -- balancing ---------------------------------------------------------------------------

    async def _balance_forever(self) -> None:
        while True:
            await asyncio.sleep(BALANCE_INTERVAL)
            try:
                await self._balance_once()
            except Exception:  # RabbitMQ away: the robust connection comes back; try later
                log.warning("engine: could not balance the shards", exc_info=True)

    async def _balance_once(self) -> None:
        for subscription in self._subscriptions:
            if subscription.channel is None:  # handed back, not yet in line again
                await self._subscribe(subscription)
        engines = await self._engines()
        if engines <= 1:
            return
        now = asyncio.get_running_loop().time()
        busy = [s for s in self._subscriptions if s.shard and now - s.last_delivery < BUSY_WINDOW]
        fair = math.ceil(self._topology.engine_shards / engines)
        # None holding a message returned before: returned again, it would come nearer to its
        # delivery limit. Of the others, the one it took last: their batches are under way
        # longest.
        free = [s for s in busy if not s.returned]
        if len(busy) > fair and free:
            await self._hand_back(max(free, key=lambda s: s.last_delivery))

    async def _engines(self) -> int:
        """The engine processes consuming now: the consumers of the presence queue."""
        assert self._counting is not None
        # Not robust: a robust channel answers a passive declare of a queue it knows from
        # memory, with the count of the first answer.
        declared = await self._counting.declare_queue(self._presence, passive=True, robust=False)
        return int(declared.declaration_result.consumer_count or 0)


async def _ignore(message: AbstractIncomingMessage) -> None:
    await message.ack()  # nothing is sent to the presence queue; should anything be, drop it
