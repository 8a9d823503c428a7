"""A stopping engine feed finishes the batch it is applying and hands back everything else."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from services.bus.engine_feed import LEAVE, Delivery, Feed


async def test_stop_finishes_the_batch_being_applied_and_leaves_the_rest() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    applied: list[list[int]] = []

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        applied.append([d.seq for d in batch])
        started.set()
        await release.wait()
        return ["done"] * len(batch)

    feed = Feed(apply_batch, batch_size=2, in_flight=1)
    deliveries = [
        feed.submit(f"workflow {n}", SimpleNamespace(message_id=str(n)), None, tag=n)
        for n in range(1, 6)
    ]
    await started.wait()  # the first batch (tags 1 and 2) is being applied
    stopping = asyncio.create_task(feed.stop())
    await asyncio.sleep(0)
    assert not stopping.done()  # it waits for the batch being applied
    release.set()
    await stopping
    results = [await feed.result(d) for d in deliveries]
    assert results == ["done", "done", LEAVE, LEAVE, LEAVE]
    assert applied == [[1, 2]]  # nothing taken after the stop
    late = feed.submit("workflow 6", SimpleNamespace(message_id="6"), None, tag=6)
    assert await feed.result(late) is LEAVE


async def test_a_message_that_fails_while_the_feed_stops_is_handed_back_not_retried() -> None:
    started, release = asyncio.Event(), asyncio.Event()

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        started.set()
        await release.wait()
        return [ConnectionResetError("the server closed the connection")] * len(batch)

    feed = Feed(apply_batch, batch_size=4, retry_delay=0.01)
    delivery = feed.submit("workflow", SimpleNamespace(message_id="1"), None, tag=1)
    await started.wait()
    stopping = asyncio.create_task(feed.stop())
    await asyncio.sleep(0)
    release.set()
    await stopping
    assert await feed.result(delivery) is LEAVE
