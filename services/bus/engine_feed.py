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
"""

from __future__ import annotations

import asyncio
import bisect
import itertools
import logging
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
    seq: int
    key: Hashable  # the workflow: deliveries with one key are applied one after the other
    message: Any
    sender: str | None
    done: asyncio.Future[Any]
    attempts: int = 0
    not_before: float = 0.0
    in_flight: bool = field(default=False)


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
        self._pending: list[Delivery] = []  # by arrival (seq: the delivery tag, if any)
        self._busy: dict[Hashable, int] = {}  # workflows in a batch being applied
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._running = 0
        self._loop_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._tags = DeliveryTags()
        self._stopping = False

    def __len__(self) -> int:
        return len(self._pending) + sum(self._busy.values())

    def arrived(self, tag: int | None) -> None:
        """A delivery reached the consumer (also one that will not be submitted: poison)."""
        if tag:
            self._tags.arrived(tag)
            self._wake.set()

    def submit(
        self, key: Hashable, message: Any, sender: str | None, tag: int | None = None
    ) -> Delivery:
        """Register a delivery (call it before awaiting anything). With the channel's delivery
        tag, deliveries are ordered by it, and none is taken while an earlier one has not
        reached the consumer yet: the order is RabbitMQ's, whatever order the client's tasks
        run in. Without one (the in-memory broker), by the order of the calls."""
        loop = asyncio.get_running_loop()
        seq = tag if tag else next(self._seq)
        delivery = Delivery(seq, key, message, sender, loop.create_future())
        if self._stopping:  # too late: handed back with the others
            delivery.done.set_result(LEAVE)
            return delivery
        bisect.insort(self._pending, delivery, key=lambda x: x.seq)
        self.arrived(tag)
        self._wake.set()
        if self._loop_task is None or self._loop_task.done():
            self._loop_task = loop.create_task(self._run(), name="engine-feed")
        return delivery

    async def result(self, delivery: Delivery) -> Any:
        """What came of a delivery; ``LEAVE`` if the service stopped before applying it."""
        return await delivery.done

    async def stop(self) -> None:
        """Take no more batches, answer ``LEAVE`` for every delivery not being applied, and
        return once the batches being applied have committed (or failed)."""
        self._stopping = True
        for d in self._pending:
            d.done.set_result(LEAVE)
        self._pending.clear()
        self._wake.set()
        while self._tasks:
            await asyncio.wait(set(self._tasks))

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending or self._running:
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
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _take(self, now: float) -> list[Delivery]:
        batch: list[Delivery] = []
        if self._stopping:
            return batch
        blocked = set(self._busy)
        complete_to = self._tags.complete_to(now)
        for d in self._pending:
            if complete_to is not None and d.seq > complete_to:
                break  # an earlier delivery is still on its way to the consumer
            if d.key in blocked:
                continue
            if d.not_before > now:  # waiting to be retried: its workflow waits with it
                blocked.add(d.key)
                continue
            batch.append(d)
            if len(batch) == self.batch_size:
                break
        if batch:
            taken = set(map(id, batch))
            self._pending = [d for d in self._pending if id(d) not in taken]
            for d in batch:
                d.in_flight = True
                self._busy[d.key] = self._busy.get(d.key, 0) + 1
        return batch

    def _next_retry(self, now: float) -> float | None:
        waits = [d.not_before - now for d in self._pending if d.not_before > now]
        if self._tags.gap_since is not None:
            waits.append(self._tags.gap_since + GAP_PATIENCE - now)
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
        if retry and self._stopping:  # handed back to RabbitMQ, in its place
            d.done.set_result(LEAVE)
            return
        if isinstance(result, Held):  # not tried: back in its place, behind the failure
            bisect.insort(self._pending, d, key=lambda x: x.seq)
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
                bisect.insort(self._pending, d, key=lambda x: x.seq)
                return
        d.done.set_result(result)
