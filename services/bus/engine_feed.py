"""The engine consumer's feed: deliveries, in the order they arrived, into batches.

Each delivery is registered (synchronously, before anything is awaited) in arrival order. A
batch takes up to ``batch_size`` of them in that order, skipping any workflow that is busy: a
message of a workflow is never taken while an earlier message of the same workflow is in a
batch being applied or waiting to be retried. So the messages of one workflow are applied
strictly in the order they arrived, whatever fails, while other workflows go on.

A message that fails for a reason that may pass (the database is down, say) is not handed
back to RabbitMQ: requeued, it would come back behind the messages that arrived after it. It
stays here, unacknowledged, in its place, and is tried again after a back-off, as many times as
the queue's delivery limit; the later messages of its workflow wait behind it. After the last
attempt it is rejected, and RabbitMQ dead-letters it (``equityflow redrive`` sends it back).
A service told to stop (``Feed.stop``) finishes the batches it is applying and leaves every other
delivery unacknowledged: RabbitMQ hands those back when the channel closes, at the head of the
queue and in their order, to the engine that takes over.

Deliveries come from one or more *sources*, one per channel (an engine consumes each of its
queues on a channel of its own: ``services.bus.engine_queues``). The order, the delivery tags
and their gaps are per source; a batch takes from every source, the earliest arrivals first.
``Feed.leave`` hands one source back the way ``stop`` hands back all of them.

A delivery may carry several messages (a bundle of timers: ``workflows.messages.TimerBundle``):
``Feed.submit_all`` registers each as a delivery of its own, all under the delivery's tag, in
the bundle's order (``Delivery.part``). Each is then taken, held behind a failure and retried
like any other delivery of its workflow.
"""

from __future__ import annotations

import asyncio
import bisect
import heapq
import itertools
import logging
import operator
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

from services.bus.failures import permanent_reason
from services.engine import Held

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0


#: How long a gap in the delivery tags may hold up the later deliveries: a delivery that never
#: reaches the consumer (the service is stopping) must not stop the others for good.
GAP_PATIENCE = 2.0


class DeliveryTags:
    """Which delivery tags of the channel have reached the consumer: every one up to
    ``complete_to`` has. RabbitMQ numbers a channel's deliveries 1, 2, 3…; a new channel (after
    a reconnection) starts at 1 again."""

    def __init__(self) -> None:
        self.contiguous = 0  # every tag up to this one has arrived
        self.early: set[int] = set()  # arrived after a gap
        self.gap_since: float | None = None

    def arrived(self, tag: int) -> None:
        if tag == 1 and self.contiguous > 0:  # a new channel
            self.contiguous, self.early, self.gap_since = 0, set(), None
        if tag > self.contiguous:
            self.early.add(tag)
            self._advance()

    def _advance(self) -> None:
        while self.contiguous + 1 in self.early:
            self.contiguous += 1
            self.early.discard(self.contiguous)
        if not self.early:
            self.gap_since = None

    def complete_to(self, now: float) -> int | None:
        """The last tag before the first gap; None when there is no gap to wait for."""
        if not self.early:
            return None
        if self.gap_since is None:
            self.gap_since = now
        elif now - self.gap_since > GAP_PATIENCE:
            log.warning("delivery %d never reached the consumer; going on without it",
                        self.contiguous + 1)  # fmt: skip
            self.contiguous = min(self.early) - 1
            self.gap_since = None
            self._advance()
            return self.complete_to(now)
        return self.contiguous


class Leave:
    """The answer for a delivery that was not applied because the service is stopping."""


LEAVE = Leave()


@dataclass(eq=False)
class Delivery:
    seq: int  # its order in its source
    key: Hashable  # the workflow: deliveries with one key are applied one after the other
    message: Any
    sender: str | None
    done: asyncio.Future[Any]
    source: Hashable = None  # the channel it came on
    arrival: int = 0  # its order among the deliveries of every source
    attempts: int = 0
    not_before: float = 0.0
    in_flight: bool = field(default=False)
    part: int = 0  # its place among the messages of one AMQP delivery (a bundle), same ``seq``


ApplyBatch = Callable[[Sequence[Delivery]], Awaitable[list[Any]]]


class Feed:
    """Batches in arrival order, ``in_flight`` at a time, one workflow never in two."""

    def __init__(
        self,
        apply_batch: ApplyBatch,
        *,
        batch_size: int,
        in_flight: int = 2,
        retry_delay: float = 0.5,
        max_attempts: int = 20,
    ) -> None:
        self._apply_batch = apply_batch
        self.batch_size, self.in_flight = batch_size, in_flight
        self.retry_delay, self.max_attempts = retry_delay, max_attempts
        # per source, by its order (seq: the delivery tag, if any)
        self._pending: dict[Hashable, list[Delivery]] = {}
        self._busy: dict[Hashable, int] = {}  # workflows in a batch being applied
        self._seq = itertools.count()
        self._arrival = itertools.count()
        self._wake = asyncio.Event()
        self._running = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: dict[asyncio.Task[None], list[Delivery]] = {}  # batches being applied
        self._tags: dict[Hashable, DeliveryTags] = {}
        self._stopping = False
        self._leaving: set[Hashable] = set()  # sources being handed back
        # Pending deliveries waiting out a back-off: the loop's next wake is the earliest of
        # them, found without walking every pending delivery (a burst of bundled timers puts
        # thousands in the feed).
        self._retrying: set[Delivery] = set()

    def __len__(self) -> int:
        return sum(map(len, self._pending.values())) + sum(self._busy.values())

    def arrived(self, tag: int | None, source: Hashable = None) -> None:
        """A delivery reached the consumer (also one that will not be submitted: poison)."""
        if tag:
            self._tags.setdefault(source, DeliveryTags()).arrived(tag)
            self._wake.set()

    def submit(
        self,
        key: Hashable,
        message: Any,
        sender: str | None,
        tag: int | None = None,
        source: Hashable = None,
    ) -> Delivery:
        """Register a delivery (call it before awaiting anything). With the channel's delivery
        tag, a source's deliveries are ordered by it, and none is taken while an earlier one
        has not reached the consumer yet: the order is RabbitMQ's, whatever order the client's
        tasks run in. Without one (the in-memory broker), by the order of the calls."""
        (delivery,) = self.submit_all([(key, message)], sender, tag, source)
        return delivery

    def submit_all(
        self,
        messages: Sequence[tuple[Hashable, Any]],
        sender: str | None,
        tag: int | None = None,
        source: Hashable = None,
    ) -> list[Delivery]:
        """``submit`` for the messages of one AMQP delivery (``(key, message)`` each, in their
        order): each a delivery of its own, all in the place of the one delivery tag."""
        loop = asyncio.get_running_loop()
        seq = tag if tag else next(self._seq)
        deliveries = [
            Delivery(
                seq, key, message, sender, loop.create_future(), source, next(self._arrival),
                part=part,
            )
            for part, (key, message) in enumerate(messages)
        ]  # fmt: skip
        if self._stopping or source in self._leaving:  # too late: handed back with the others
            for delivery in deliveries:
                delivery.done.set_result(LEAVE)
            return deliveries
        pending = self._pending.setdefault(source, [])
        for delivery in deliveries:
            bisect.insort(pending, delivery, key=_in_source)
        self.arrived(tag, source)
        self._wake.set()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = loop.create_task(self._run(), name="engine-feed")
        return deliveries

    async def result(self, delivery: Delivery) -> Any:
        """What came of a delivery; ``LEAVE`` if the service stopped before applying it."""
        return await delivery.done

    async def stop(self) -> None:
        """Take no more batches, answer ``LEAVE`` for every delivery not being applied, and
        return once the batches being applied have committed (or failed)."""
        self._stopping = True
        for pending in self._pending.values():
            for d in pending:
                d.done.set_result(LEAVE)
        self._pending.clear()
        self._retrying.clear()
        self._wake.set()
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    async def leave(self, source: Hashable) -> None:
        """``stop`` for one source: answer ``LEAVE`` for its deliveries not being applied (and
        for any it submits from now on), and return once the batches that hold any of its
        deliveries have committed (or failed). The others go on."""
        self._leaving.add(source)
        for d in self._pending.pop(source, ()):
            d.done.set_result(LEAVE)
            self._retrying.discard(d)
        self._wake.set()
        while holding := [t for t, b in self._tasks.items() if any(d.source == source for d in b)]:
            await asyncio.wait(holding)

    def forget(self, source: Hashable) -> None:
        """A source handed back (its channel closed): nothing more comes from it."""
        self._leaving.discard(source)
        self._tags.pop(source, None)

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while any(self._pending.values()) or self._running:
            batch = self._take(loop.time()) if self._running < self.in_flight else []
            if not batch:
                self._wake.clear()
                try:
                    await asyncio.wait_for(self._wake.wait(), self._next_retry(loop.time()))
                except TimeoutError:
                    pass
                continue
            self._running += 1
            task = loop.create_task(self._apply(batch))
            self._tasks[task] = batch
            task.add_done_callback(self._forget_task)

    def _forget_task(self, task: asyncio.Task[None]) -> None:
        self._tasks.pop(task, None)

    def _take(self, now: float) -> list[Delivery]:
        if self._stopping:
            return []
        blocked = set(self._busy)
        ready = [
            taken
            for source, pending in self._pending.items()
            if (taken := self._ready(source, pending, blocked, now))
        ]
        if not ready:
            return []
        # Each source's deliveries in its own order (``merge`` keeps it), the sources'
        # interleaved by arrival: no shard waits behind another's backlog.
        batch = ready[0] if len(ready) == 1 else list(
            itertools.islice(heapq.merge(*ready, key=_by_arrival), self.batch_size)
        )  # fmt: skip
        self._retrying.difference_update(batch)
        for source in {d.source for d in batch}:
            self._pending[source] = _without(self._pending[source], batch, source)
        for d in batch:
            d.in_flight = True
            self._busy[d.key] = self._busy.get(d.key, 0) + 1
        return batch

    def _ready(
        self, source: Hashable, pending: list[Delivery], blocked: set[Hashable], now: float
    ) -> list[Delivery]:
        """Up to a batch of ``source``'s deliveries that may be applied now, in its order."""
        ready: list[Delivery] = []
        tags = self._tags.get(source)
        complete_to = tags.complete_to(now) if tags is not None else None
        for d in pending:
            if complete_to is not None and d.seq > complete_to:
                break  # an earlier delivery is still on its way to the consumer
            if d.key in blocked:
                continue
            if d.not_before > now:  # waiting to be retried: its workflow waits with it
                blocked.add(d.key)
                continue
            ready.append(d)
            if len(ready) == self.batch_size:
                break
        return ready

    def _next_retry(self, now: float) -> float | None:
        waits = [d.not_before - now for d in self._retrying if d.not_before > now]
        waits += [
            tags.gap_since + GAP_PATIENCE - now
            for tags in self._tags.values()
            if tags.gap_since is not None
        ]
        return max(0.0, min(waits)) if waits else None

    async def _apply(self, batch: list[Delivery]) -> None:
        try:
            results = await self._apply_batch(batch)
        except Exception as error:  # never expected: apply_batch answers each message
            log.exception("a batch of %d messages failed", len(batch))
            results = [error] * len(batch)
        now = asyncio.get_running_loop().time()
        for d, result in zip(batch, results, strict=True):
            d.in_flight = False
            if not d.done.done():
                self._settle(d, result, now)
            self._busy[d.key] -= 1
            if not self._busy[d.key]:
                del self._busy[d.key]
        self._running -= 1
        self._wake.set()

    def _settle(self, d: Delivery, result: Any, now: float) -> None:
        retry = isinstance(result, Held) or (
            isinstance(result, Exception) and permanent_reason(result) is None
        )
        if retry and (self._stopping or d.source in self._leaving):  # handed back, in its place
            d.done.set_result(LEAVE)
            return
        if isinstance(result, Held):  # not tried: back in its place, behind the failure
            bisect.insort(self._pending.setdefault(d.source, []), d, key=_in_source)
            return
        if isinstance(result, Exception) and permanent_reason(result) is None:
            d.attempts += 1
            if d.attempts < self.max_attempts:
                delay = min(self.retry_delay * 2 ** (d.attempts - 1), MAX_RETRY_DELAY)
                log.warning(
                    "message %s failed (%s: %s); retrying in %.1fs (attempt %d of %d), its "
                    "workflow's later messages waiting behind it",
                    d.message.message_id, type(result).__name__, result, delay,
                    d.attempts + 1, self.max_attempts,
                )  # fmt: skip
                d.not_before = now + delay
                bisect.insort(self._pending.setdefault(d.source, []), d, key=_in_source)
                self._retrying.add(d)
                return
        d.done.set_result(result)


def _in_source(d: Delivery) -> tuple[int, int]:
    return d.seq, d.part


def _without(pending: list[Delivery], batch: list[Delivery], source: Hashable) -> list[Delivery]:
    """``pending`` less the batch's deliveries of ``source``. Most often those are the first ones
    waiting (none was skipped): cut off as a slice, rather than a Python loop, on every batch
    taken, over a backlog that may hold thousands (a burst of timer bundles)."""
    taken = [d for d in batch if d.source == source]
    if all(map(operator.is_, pending, taken)):  # pairs up to ``taken``'s end
        return pending[len(taken) :]
    taken_ids = set(map(id, taken))
    return [d for d in pending if id(d) not in taken_ids]


def _by_arrival(d: Delivery) -> int:
    return d.arrival
