"""Publishing a batch with its confirms awaited together, each workflow's messages in order.

Waiting for each publisher confirm before sending the next message caps a publisher at one
round trip to RabbitMQ (and its disk) per message. Here a batch goes out in *waves*: wave k
holds the k-th message of every workflow (``key``) in the batch, all published at once on the
publisher's channel, and wave k+1 starts only when every confirm of wave k is in. So messages of
different workflows share the wait, while a workflow's second message is never sent before its
first is confirmed: a nack, a returned (unroutable) message or a timeout cannot let a later
message of that workflow overtake it.

A message that fails blocks the rest of its workflow in this batch; every other workflow goes
on. The caller marks done only what ``confirmed`` lists, and claims the rest again (in its own
order) on its next pass: the failed message is retried before anything after it.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from faststream.rabbit import RabbitExchange

from services.bus.publisher import Publisher

T = TypeVar("T")


@dataclass(frozen=True)
class Publication(Generic[T]):
    """One message to publish, and ``ref``: what the caller marks done once it is confirmed."""

    ref: T
    key: Hashable  # messages with the same key are published in the order given
    body: bytes
    exchange: RabbitExchange
    routing_key: str
    message_id: str


@dataclass
class Published(Generic[T]):
    confirmed: list[T] = field(default_factory=list)
    failed: list[tuple[T, Exception]] = field(default_factory=list)
    held_back: list[T] = field(default_factory=list)  # after a failure of the same workflow
    waves: int = 0

    def raise_first_failure(self) -> None:
        """Once what was confirmed is committed: raise the first failure (the caller backs off)."""
        if self.failed:
            raise self.failed[0][1]


async def publish_in_order(
    publisher: Publisher, publications: Sequence[Publication[T]]
) -> Published[T]:
    """Publish ``publications`` in waves (see the module); return what was confirmed.

    An ``Exception`` from one publish is a failure of that message; anything else (a
    cancellation, a process being stopped) propagates, and nothing is reported confirmed.
    """
    queues: dict[Hashable, deque[Publication[T]]] = defaultdict(deque)
    for p in publications:
        queues[p.key].append(p)
    result: Published[T] = Published()
    while queues:
        wave = [q.popleft() for q in queues.values()]
        result.waves += 1
        outcomes = await asyncio.gather(
            *(
                publisher.publish(
                    p.body, exchange=p.exchange, routing_key=p.routing_key, message_id=p.message_id
                )
                for p in wave
            ),
            return_exceptions=True,
        )
        for p, outcome in zip(wave, outcomes, strict=True):
            if isinstance(outcome, Exception):
                result.failed.append((p.ref, outcome))
                result.held_back.extend(q.ref for q in queues.pop(p.key))
            elif isinstance(outcome, BaseException):
                raise outcome
            else:
                result.confirmed.append(p.ref)
        queues = {k: q for k, q in queues.items() if q}
    return result
