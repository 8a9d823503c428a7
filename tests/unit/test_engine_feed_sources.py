"""An engine feed with several sources (one per queue's channel): each keeps its own order and
tags, batches take from all of them, and one source can be handed back while the others go on."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from types import SimpleNamespace
from typing import Any

from services.bus.engine_feed import LEAVE, Delivery, Feed


def _message(n: object) -> SimpleNamespace:
    return SimpleNamespace(message_id=str(n))


async def test_each_source_keeps_its_order_and_batches_take_from_every_source() -> None:
    applied: list[list[tuple[str, int]]] = []

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        applied.append([(str(d.source), d.seq) for d in batch])
        return ["done"] * len(batch)

    feed = Feed(apply_batch, batch_size=4, in_flight=1)
    # The same tags on two channels, each arriving out of order: each channel's order is its
    # tags', whatever order the tasks submitted them in.
    arrivals = [("a", 2), ("b", 1), ("a", 1), ("b", 3), ("b", 2), ("a", 3)]
    deliveries = [
        feed.submit(f"{source} workflow", _message(f"{source}{tag}"), None, tag, source)
        for source, tag in arrivals
    ]
    assert [await feed.result(d) for d in deliveries] == ["done"] * 6
    for source in "ab":
        taken = [tag for batch in applied for s, tag in batch if s == source]
        assert taken == [1, 2, 3]
    assert {s for s, _ in applied[0]} == {"a", "b"}  # neither waited behind the other


async def test_leaving_one_source_finishes_its_batches_and_hands_back_the_rest() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    applied: list[str] = []

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        applied.extend(d.message.message_id for d in batch)
        started.set()
        await release.wait()
        return ["done"] * len(batch)

    feed = Feed(apply_batch, batch_size=2, in_flight=1)
    first = [feed.submit("wa", _message(f"a{n}"), None, n, "a") for n in (1, 2)]
    await started.wait()  # a1 and a2 are being applied
    later = [feed.submit("wa", _message("a3"), None, 3, "a")]
    other = [feed.submit("wb", _message("b1"), None, 1, "b")]
    leaving = asyncio.create_task(feed.leave("a"))
    await asyncio.sleep(0)
    assert not leaving.done()  # it waits for the batch that holds the source's deliveries
    release.set()
    await leaving
    assert [await feed.result(d) for d in first] == ["done", "done"]
    assert await feed.result(later[0]) is LEAVE  # handed back, not applied
    assert await feed.result(other[0]) == "done"  # the other source goes on
    late = feed.submit("wa", _message("a4"), None, 4, "a")
    assert await feed.result(late) is LEAVE  # until the source is forgotten
    feed.forget("a")
    assert applied == ["a1", "a2", "b1"]


async def test_a_batch_skips_a_busy_workflow_and_its_message_waits_in_its_place() -> None:
    """While a batch holds workflow w1, the next batch takes w2 and w3 from behind w1's third
    message (not the first ones waiting), which then goes once w1 is free: each message once,
    each workflow's in order."""
    applied: list[list[str]] = []
    first_in, release = asyncio.Event(), asyncio.Event()

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        applied.append([d.message.message_id for d in batch])
        if len(applied) == 1:
            first_in.set()
            await release.wait()
        return ["done"] * len(batch)

    # A message the feed lost would be waited for forever: bounded, it fails instead.
    async with asyncio.timeout(30):
        feed = Feed(apply_batch, batch_size=2, in_flight=2)
        first = [feed.submit("w1", _message(f"w1-{n}"), None, n, "a") for n in (1, 2)]
        await first_in.wait()  # w1-1 and w1-2 are being applied
        later = [
            feed.submit(key, _message(name), None, tag, "a")
            for key, name, tag in (("w1", "w1-3", 3), ("w2", "w2-1", 4), ("w3", "w3-1", 5))
        ]
        second = [await feed.result(d) for d in later[1:]]  # taken past w1-3, which waits
        assert applied[1:] == [["w2-1", "w3-1"]]
        release.set()
        assert [await feed.result(d) for d in [*first, later[0]]] == ["done"] * 3
        assert second == ["done", "done"]
        assert applied == [["w1-1", "w1-2"], ["w2-1", "w3-1"], ["w1-3"]]
        assert len(feed) == 0
