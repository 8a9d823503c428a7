"""The engine's acknowledgements on RabbitMQ: a run of committed deliveries of a channel in one
``basic.ack(multiple=True)``, never one that covers a delivery whose effects are not committed.

Why: acked one by one, each committed message costs the engine a socket write (on loopback the
sender pays the network stack: about 6% of an engine's time under a burst of timers) and
RabbitMQ an operation on its quorum queue. A batch commits up to ``EQUITYFLOW_ENGINE_BATCH``
messages at once; they can be acknowledged at once.

The rule, per channel (RabbitMQ numbers a channel's deliveries 1, 2, 3…, and a channel opened
again after a reconnection starts at 1: each channel has a ``Ledger`` of its own, found by the
channel the message came on, so an ack never reaches another channel than its delivery's):

- A delivery is *settled* once this channel holds it no more: committed (applied, a duplicate,
  refused and recorded), acknowledged here; or acked, nacked or rejected one by one by its
  handler (a dead letter is acked once its publish is confirmed, nacked if it fails; a message
  that failed its last attempt is rejected). Every other delivery is *open*: in a batch being
  applied, waiting for its retry (a back-off of up to 30 s), being dead-lettered, handed back
  (``LEAVE``: the service is stopping or giving the shard to another engine, and RabbitMQ must
  return it to the queue unacknowledged), or never seen (a delivery tag that did not reach the
  consumer: the feed goes on without it after a while, ``services.bus.engine_feed``; this never
  does, for what it never saw may be anything).
- ``multiple=True`` with tag T acknowledges every delivery up to T that the channel still
  holds. So T is acknowledged that way only once every delivery up to T is settled: the
  settled prefix. And T must be one the channel still holds: a tag it no longer holds (acked
  one by one already) is answered "unknown delivery tag", and the channel is closed with every
  delivery on it. T is therefore the highest committed tag of the prefix; a prefix settled one
  by one needs no ack at all.
- Above the first open delivery (the *hole*), committed deliveries wait for it to settle, then
  go in the prefix's one ack. Two batches are applied at once (by default)
  and the later often commits first: its deliveries then wait for the earlier batch, a matter
  of one batch's time. But a delivery waiting for its retry, or for its dead letter, may stay
  open for seconds, and the committed deliveries behind it would fill the channel's prefetch
  and stop the engine taking any more from that queue. So none waits longer than
  ``HOLE_PATIENCE``: then every committed delivery above the hole is acknowledged one by one,
  and so is each committed above it from then on, at once, until it settles and the prefix
  moves on. A hole handed back (``LEAVE``) never settles: nothing waits for it. (A cap on how
  many may wait would fire in the ordinary case, a whole batch waiting for the one below it;
  the prefetch caps how many anyway, and the patience how long the engine can be held up.)
- Acknowledgements are written in the order decided, one after the other, each awaited; a
  handler's own ack, nack or reject is recorded here only once it is written. So a multiple ack
  never overtakes, nor covers, one written one by one (which would close the channel).

A handler waits until its delivery's acknowledgement is written: a service handing a channel
back waits for its handlers (``services.bus.engine_queues``, ``services.bus.consumers``), so
every committed delivery is acknowledged before its channel closes, and none comes back as a
duplicate. Should the write fail (the channel closed), RabbitMQ returns those deliveries to the
queue and the inbox answers them as duplicates: no harm, and nothing acknowledged wrongly.

The in-memory broker (``equityflow up``) has no channels: there each message is acked itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from typing import Any, Protocol

from aiormq.exceptions import ChannelInvalidStateError

log = logging.getLogger(__name__)

#: How long a committed delivery may wait for an open one below it before it is acknowledged
#: on its own: well above the time a batch takes to commit, well below the first retry.
HOLE_PATIENCE = 0.25


class AckChannel(Protocol):
    """What this module needs of a channel (aiormq's, the one a message came on)."""

    @property
    def is_closed(self) -> bool: ...

    async def basic_ack(
        self, delivery_tag: int, multiple: bool = False, wait: bool = True
    ) -> None: ...


@dataclass(frozen=True)
class Ack:
    """One ``basic.ack`` to write, and the committed deliveries it acknowledges."""

    tag: int
    multiple: bool
    covers: tuple[int, ...]


class Ledger:
    """Which deliveries of one channel are settled, and the acks that tell RabbitMQ: pure
    bookkeeping, in the order the caller reports (times are the caller's clock)."""

    def __init__(self, patience: float = HOLE_PATIENCE) -> None:
        self.patience = patience
        self.acked_to = 0  # every delivery up to this tag is settled, and acknowledged
        self._committed: dict[int, float] = {}  # above it, committed, not yet acked: since when
        self._settled: set[int] = set()  # above it, acked (or nacked, rejected) one by one
        self._left: set[int] = set()  # handed back: never acknowledged
        self._given_up: int | None = None  # the hole above which acks go one by one at once

    def committed(self, tag: int, now: float) -> bool:
        """Its batch has committed: to acknowledge. False for a tag reported before."""
        if self._known(tag):
            log.error("delivery %d reported settled twice; ignored", tag)
            return False
        self._committed[tag] = now
        return True

    def settled(self, tag: int) -> None:
        """Its handler acked, nacked or rejected it on its own (the write is done)."""
        if not self._known(tag):
            self._settled.add(tag)

    def left(self, tag: int) -> None:
        """Handed back: it returns to the queue unacknowledged when the channel closes."""
        if not self._known(tag):
            self._left.add(tag)

    def _known(self, tag: int) -> bool:
        return (
            tag <= self.acked_to
            or tag in self._committed
            or tag in self._settled
            or tag in self._left
        )

    def acks(self, now: float) -> list[Ack]:
        """The acks to write now, in order; from here on, they count as written."""
        acks: list[Ack] = []
        covers: list[int] = []
        tag = self.acked_to + 1
        while True:  # the settled prefix: one ack, with its highest committed tag
            if self._committed.pop(tag, None) is not None:
                covers.append(tag)
            elif tag in self._settled:
                self._settled.discard(tag)
            else:
                break
            tag += 1
        self.acked_to = tag - 1
        if covers:
            acks.append(Ack(covers[-1], multiple=True, covers=tuple(covers)))
        if self._committed and self._out_of_patience(now):
            self._given_up = self.acked_to + 1
            for waiting in sorted(self._committed):
                acks.append(Ack(waiting, multiple=False, covers=(waiting,)))
                self._settled.add(waiting)
            self._committed.clear()
        return acks

    def _out_of_patience(self, now: float) -> bool:
        hole = self.acked_to + 1
        oldest = next(iter(self._committed.values()))  # reported in order: the first waited most
        return hole in self._left or hole == self._given_up or now - oldest >= self.patience

    def due(self) -> float | None:
        """When the committed deliveries waiting above a hole run out of patience, if any do."""
        if not self._committed:
            return None
        return next(iter(self._committed.values())) + self.patience

    @property
    def waiting(self) -> int:
        """Committed deliveries not yet acknowledged."""
        return len(self._committed)


class ChannelAcks:
    """A ``Ledger`` for one channel, and the writing of its acks.

    A delivery reported committed is acknowledged on the next turn of the event loop, once the
    handlers its batch woke have all reported theirs: one ack for the batch."""

    def __init__(self, channel: AckChannel, patience: float = HOLE_PATIENCE) -> None:
        self.ledger = Ledger(patience)
        self._channel = channel
        self._waiting: dict[int, asyncio.Future[None]] = {}  # committed, until acknowledged
        self._outbox: deque[Ack] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._look: asyncio.Handle | None = None  # the next look at the ledger
        self._look_at: float | None = None  # when (None: on the next turn)
        self._broken = False
        self.written = 0  # acks written, for the log and tests
        self.acknowledged = 0  # deliveries they acknowledged

    def committed(self, tag: int) -> asyncio.Future[None]:
        """Acknowledge ``tag`` (its batch has committed); done once the ack is written."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        if self._broken or not self.ledger.committed(tag, loop.time()):
            done.set_result(None)  # the channel is gone (RabbitMQ put it back), or a repeat
            return done
        self._waiting[tag] = done
        self._look_soon()
        return done

    def settled(self, tag: int) -> None:
        self.ledger.settled(tag)
        self._look_soon()

    def left(self, tag: int) -> None:
        self.ledger.left(tag)
        self._look_soon()

    def _look_soon(self) -> None:
        if self._look is not None and self._look_at is None:
            return  # already on the next turn
        if self._look is not None:
            self._look.cancel()
        self._look, self._look_at = asyncio.get_running_loop().call_soon(self._look_now), None

    def _look_now(self) -> None:
        loop = asyncio.get_running_loop()
        self._look = self._look_at = None
        if self._broken:
            return
        acks = self.ledger.acks(loop.time())
        if acks:
            self._outbox.extend(acks)
            if self._writer is None or self._writer.done():
                self._writer = loop.create_task(self._write(), name="engine-acks")
        if (due := self.ledger.due()) is not None:
            self._look, self._look_at = loop.call_at(due, self._look_now), due

    async def _write(self) -> None:
        while self._outbox:
            ack = self._outbox.popleft()
            try:
                await self._channel.basic_ack(ack.tag, multiple=ack.multiple)
            except Exception as error:  # the channel closed: RabbitMQ returns what it held
                self._break(error)
                return
            self.written += 1
            self.acknowledged += len(ack.covers)
            log.debug("acknowledged %d deliveries with one ack (tag %d, multiple=%s)",
                      len(ack.covers), ack.tag, ack.multiple)  # fmt: skip
            for tag in ack.covers:
                if (done := self._waiting.pop(tag, None)) is not None and not done.done():
                    done.set_result(None)

    def _break(self, error: BaseException | None) -> None:
        if not self._broken and self._waiting:
            log.warning("could not acknowledge %d committed deliveries (%s); RabbitMQ returns "
                        "them to the queue, where they are duplicates", len(self._waiting),
                        error or "the channel closed")  # fmt: skip
        self._broken = True
        self._outbox.clear()
        if self._look is not None:
            self._look.cancel()
            self._look = self._look_at = None
        for done in self._waiting.values():
            if not done.done():
                done.set_result(None)
        self._waiting.clear()

    def close(self) -> None:
        """The channel closed: let go of the handlers waiting on it."""
        self._break(None)


class EngineAcks:
    """The engine's acknowledgements, on every channel it consumes on.

    Each call takes the message and its delivery tag, ``None`` for the in-memory broker, where
    every message is acked itself."""

    def __init__(self, patience: float = HOLE_PATIENCE) -> None:
        self.patience = patience
        self._channels: dict[AckChannel, ChannelAcks] = {}

    async def committed(self, message: Any, tag: int | None) -> None:
        """Its batch has committed: acknowledge it (with others), and return once written."""
        if tag is None:
            await message.ack()
            return
        if (channel := self._of(message)) is not None:
            await channel.committed(tag)

    def settled(self, message: Any, tag: int | None) -> None:
        """Its handler has acked, nacked or rejected it on its own (dead-lettered, say)."""
        if tag is not None and (channel := self._of(message)) is not None:
            channel.settled(tag)

    def left(self, message: Any, tag: int | None) -> None:
        """Left unacknowledged, to return to the queue when its channel closes: never covered."""
        if tag is not None and (channel := self._of(message)) is not None:
            channel.left(tag)

    def _of(self, message: Any) -> ChannelAcks | None:
        try:
            channel: AckChannel = message.channel  # the one it came on
        except ChannelInvalidStateError:  # closed: RabbitMQ has put it back
            return None
        acks = self._channels.get(channel)
        if acks is None:
            self._forget_closed()
            acks = self._channels[channel] = ChannelAcks(channel, self.patience)
        return acks

    def _forget_closed(self) -> None:
        for channel in [c for c in self._channels if c.is_closed]:
            self._channels.pop(channel).close()
