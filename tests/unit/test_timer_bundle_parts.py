"""Bundles of timers: their body, their size, how the engine parses them, and how the feed keeps
the order of their timers among the channel's other deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from services.bus import timer_bundles
from services.bus.engine_feed import Delivery, Feed
from services.bus.poison import PoisonMessage, parse_engine_message
from services.bus.timer_bundles import bundle_body, in_bundles
from workflows.messages import TimerBundle, TimerMessage


def _timer(workflow_id: uuid.UUID | None = None) -> TimerMessage:
    return TimerMessage(
        message_id=str(uuid.uuid4()),
        company_id="acme",
        workflow_id=workflow_id or uuid.uuid4(),
        workflow_type="rofr",
        timer="election_deadline",
        due_at=datetime(2026, 4, 2, 6, 59, 59, 999999, tzinfo=UTC),
    )


def test_a_bundle_body_is_a_timer_bundle_holding_each_timer_s_own_text() -> None:
    timers = [_timer() for _ in range(3)]
    texts = [t.model_dump_json().encode() for t in timers]
    body = bundle_body(texts)
    parsed = parse_engine_message(body, "timers.2")
    assert isinstance(parsed, TimerBundle)
    assert parsed.timers == timers
    assert body == TimerBundle(kind="timers", timers=timers).model_dump_json().encode()
    assert parse_engine_message(body, "") == parsed  # the kind says what it is, too


def test_bundles_keep_the_order_and_stay_within_their_limits(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(timer_bundles, "MAX_BUNDLE_TIMERS", 3)
    monkeypatch.setattr(timer_bundles, "MAX_BUNDLE_BYTES", 25)
    bodies = [b"x" * n for n in (5, 5, 5, 5, 20, 30, 1)]
    runs = in_bundles(bodies)
    assert [list(r) for r in runs] == [[0, 1, 2], [3], [4], [5], [6]]  # one too big goes alone
    assert in_bundles([]) == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"kind":"timers","timers":[]}', "timers: List should have at least 1 item"),
        ('{"kind":"timers","timers":[{"kind":"timer"}]}', "timers.0.message_id: Field required"),
        ('{"kind":"timer","timers":[]}', "kind: Input should be 'timers'"),
        ('{"timers":[]}', "kind: Field required"),
    ],
)
def test_a_malformed_bundle_is_refused_with_its_reason(body: str, reason: str) -> None:
    with pytest.raises(PoisonMessage, match=reason):
        parse_engine_message(body.encode(), "timers.0")


def test_a_bundle_under_a_timer_s_routing_key_is_refused() -> None:
    body = bundle_body([_timer().model_dump_json().encode()])
    with pytest.raises(PoisonMessage):
        parse_engine_message(body, "timer.rofr.election_deadline.0")


async def test_the_feed_takes_a_bundle_s_timers_in_its_place_and_order() -> None:
    applied: list[str] = []

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        applied.extend(d.message.message_id for d in batch)
        return ["done"] * len(batch)

    def message(n: str) -> SimpleNamespace:
        return SimpleNamespace(message_id=n)

    feed = Feed(apply_batch, batch_size=10, in_flight=1)
    # Tag 3 arrives first; the bundle (tag 2) before the command of tag 1.
    later = feed.submit("w1", message("c3"), None, 3, "ch")
    bundle = feed.submit_all(
        [("w1", message("t2.0")), ("w2", message("t2.1")), ("w1", message("t2.2"))], None, 2, "ch"
    )
    first = feed.submit("w1", message("c1"), None, 1, "ch")
    for d in (first, *bundle, later):
        assert await feed.result(d) == "done"
    assert applied == ["c1", "t2.0", "t2.1", "t2.2", "c3"]


async def test_a_failed_timer_of_a_bundle_holds_its_workflow_s_later_ones_only() -> None:
    attempts: dict[str, int] = {}
    batches: list[list[str]] = []

    async def apply_batch(batch: Sequence[Delivery]) -> list[Any]:
        batches.append([d.message.message_id for d in batch])
        results: list[Any] = []
        for d in batch:
            n = d.message.message_id
            attempts[n] = attempts.get(n, 0) + 1
            results.append(ConnectionError("down") if n == "a1" and attempts[n] == 1 else "done")
        return results

    feed = Feed(apply_batch, batch_size=1, in_flight=1, retry_delay=0.01)
    names = [("a", "a1"), ("b", "b1"), ("a", "a2"), ("b", "b2")]
    bundle = feed.submit_all([(k, SimpleNamespace(message_id=n)) for k, n in names], None, 1, "ch")
    assert [await feed.result(d) for d in bundle] == ["done"] * 4
    order = [n for batch in batches for n in batch]
    assert order.index("a2") > order.index("a1", 1)  # a2 only after a1 succeeded
    assert order.index("b1") < order.index("a1", 1)  # b went on meanwhile
