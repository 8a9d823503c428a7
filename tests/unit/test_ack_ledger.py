"""The engine acknowledges a run of committed deliveries with one ``basic.ack(multiple=True)``
and never one whose effects are not committed (``services.bus.acks``).

``Channel`` below holds what a RabbitMQ channel holds, the deliveries not yet acknowledged, and
answers acks as RabbitMQ does: ``multiple`` takes every delivery up to the tag; a tag it does
not hold is "unknown delivery tag", which closes the channel.
"""

from __future__ import annotations

import asyncio
import random
from types import SimpleNamespace

from aiormq.exceptions import ChannelInvalidStateError

from services.bus.acks import Ack, ChannelAcks, EngineAcks, Ledger

PATIENCE = 0.25


class Channel:
    """A channel holding deliveries ``1..held``, recording the acks written to it."""

    def __init__(self, held: int = 0) -> None:
        self.held = set(range(1, held + 1))
        self.acks: list[tuple[int, bool]] = []
        self.acknowledged: set[int] = set()
        self.is_closed = False

    def ack(self, tag: int, multiple: bool) -> None:
        if tag not in self.held:
            raise AssertionError(f"unknown delivery tag {tag}: RabbitMQ closes the channel")
        taken = {t for t in self.held if t <= tag} if multiple else {tag}
        self.held -= taken
        self.acknowledged |= taken
        self.acks.append((tag, multiple))

    async def basic_ack(self, delivery_tag: int, multiple: bool = False, wait: bool = True) -> None:
        if self.is_closed:
            raise ChannelInvalidStateError("closed")
        self.ack(delivery_tag, multiple)


def test_a_committed_run_is_acknowledged_with_one_multiple_ack() -> None:
    ledger = Ledger(PATIENCE)
    for tag in range(1, 6):
        ledger.committed(tag, 0.0)
    assert ledger.acks(0.0) == [Ack(5, multiple=True, covers=(1, 2, 3, 4, 5))]
    assert ledger.acks(1.0) == []  # nothing twice


def test_a_batch_committed_before_the_one_below_it_waits_for_it_then_shares_its_ack() -> None:
    ledger = Ledger(PATIENCE)
    for tag in (3, 4):  # the later batch committed first
        ledger.committed(tag, 0.0)
    assert ledger.acks(0.0) == []
    for tag in (1, 2):
        ledger.committed(tag, 0.05)
    assert ledger.acks(0.05) == [Ack(4, multiple=True, covers=(1, 2, 3, 4))]


def test_deliveries_above_one_waiting_for_its_retry_are_acked_one_by_one_after_a_while() -> None:
    ledger = Ledger(PATIENCE)
    for tag in (2, 3):  # 1 failed and waits for its retry
        ledger.committed(tag, 0.0)
    assert ledger.acks(PATIENCE / 2) == []
    assert ledger.due() == PATIENCE
    assert ledger.acks(PATIENCE) == [Ack(2, False, (2,)), Ack(3, False, (3,))]
    ledger.committed(4, 1.0)  # the hole is known to last: no more waiting
    assert ledger.acks(1.0) == [Ack(4, False, (4,))]
    ledger.committed(1, 2.0)  # retried and committed: the ack carries 1 alone, still held
    assert ledger.acks(2.0) == [Ack(1, True, (1,))]
    ledger.committed(5, 2.1)
    assert ledger.acks(2.1) == [Ack(5, True, (5,))]  # the runs are back


def test_a_delivery_handed_back_is_never_covered_and_nothing_waits_for_it() -> None:
    ledger = Ledger(PATIENCE)
    for tag in (1, 2, 4, 5):
        ledger.committed(tag, 0.0)
    ledger.left(3)  # LEAVE: the shard is handed back; 3 returns to the queue
    assert ledger.acks(0.0) == [Ack(2, True, (1, 2)), Ack(4, False, (4,)), Ack(5, False, (5,))]
    ledger.committed(6, 0.1)
    assert ledger.acks(0.1) == [Ack(6, False, (6,))]
    assert ledger.acked_to == 2


def test_a_dead_letter_holds_the_run_until_it_is_acked_itself() -> None:
    ledger = Ledger(PATIENCE)
    for tag in (1, 3):
        ledger.committed(tag, 0.0)  # 2 is being dead-lettered: not yet confirmed
    assert ledger.acks(0.0) == [Ack(1, True, (1,))]
    ledger.settled(2)  # its dead letter confirmed, it was acked on its own
    assert ledger.acks(0.1) == [Ack(3, True, (3,))]


def test_the_multiple_ack_carries_its_highest_committed_tag_not_one_acked_on_its_own() -> None:
    ledger = Ledger(PATIENCE)
    ledger.committed(1, 0.0)
    ledger.settled(2)  # dead-lettered: the channel holds it no more
    assert ledger.acks(0.0) == [Ack(1, True, (1,))]
    ledger.settled(3)
    ledger.settled(4)
    assert ledger.acks(0.0) == [] and ledger.acked_to == 4  # nothing left to ack


def test_whatever_the_order_every_committed_delivery_and_nothing_else_is_acknowledged() -> None:
    for seed in range(300):
        _settle_in_random_order(seed)


def _settle_in_random_order(seed: int) -> None:
    rng = random.Random(seed)
    count = rng.randint(1, 60)
    channel, ledger, now = Channel(held=count), Ledger(PATIENCE), 0.0
    fates = {t: rng.choices(["commit", "own", "leave"], [8, 1, 1])[0] for t in channel.held}
    for tag in rng.sample(sorted(fates), k=count):  # settled in any order
        now += rng.choice([0.0, 0.01, 0.1, PATIENCE])
        if fates[tag] == "commit":
            ledger.committed(tag, now)
        elif fates[tag] == "own":  # dead-lettered or rejected: acked by its handler first
            channel.ack(tag, multiple=False)
            ledger.settled(tag)
        else:
            ledger.left(tag)
        for ack in ledger.acks(now):
            channel.ack(ack.tag, ack.multiple)
    for ack in ledger.acks(now + PATIENCE):
        channel.ack(ack.tag, ack.multiple)
    assert channel.held == {t for t, fate in fates.items() if fate == "leave"}, seed
    assert ledger.waiting == 0, seed


async def test_the_handlers_of_a_batch_are_acknowledged_with_one_ack() -> None:
    channel = Channel(held=64)
    acks = ChannelAcks(channel, PATIENCE)
    batch_committed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def handler(tag: int) -> None:
        await batch_committed
        await acks.committed(tag)

    handlers = [asyncio.create_task(handler(tag)) for tag in range(1, 65)]
    await asyncio.sleep(0)
    batch_committed.set_result(None)
    await asyncio.wait_for(asyncio.gather(*handlers), 5)  # each returns once acknowledged
    assert channel.acks == [(64, True)]
    assert channel.held == set()


async def test_a_handler_above_a_delivery_held_for_its_retry_is_acknowledged_within_patience() -> (
    None
):
    channel = Channel(held=3)
    acks = ChannelAcks(channel, patience=0.05)
    await asyncio.wait_for(asyncio.gather(acks.committed(2), acks.committed(3)), 5)
    assert channel.acks == [(2, False), (3, False)] and channel.held == {1}
    await asyncio.wait_for(acks.committed(1), 5)
    assert channel.acks[-1] == (1, True) and channel.held == set()


def _message(channel: Channel, tag: int) -> SimpleNamespace:
    return SimpleNamespace(channel=channel, delivery_tag=tag)


async def test_a_new_channel_numbers_its_deliveries_from_one_and_has_acks_of_its_own() -> None:
    acks = EngineAcks(PATIENCE)
    first, second = Channel(held=3), Channel(held=2)
    await asyncio.gather(*(acks.committed(_message(first, t), t) for t in (1, 2)))
    first.is_closed = True  # a reconnection: 3 returns to the queue, comes again on the next
    await asyncio.gather(*(acks.committed(_message(second, t), t) for t in (1, 2)))
    assert first.acks == [(2, True)] and first.held == {3}
    assert second.acks == [(2, True)] and second.held == set()


async def test_a_delivery_of_a_closed_channel_is_not_acknowledged_anywhere() -> None:
    acks = EngineAcks(PATIENCE)

    class Closed:
        @property
        def channel(self) -> None:
            raise ChannelInvalidStateError("closed")  # aio-pika's answer

    await asyncio.wait_for(acks.committed(Closed(), 1), 5)  # returns: RabbitMQ put it back


async def test_in_memory_each_message_is_acked_itself() -> None:
    acked: list[str] = []

    async def ack() -> None:
        acked.append("ack")

    await EngineAcks(PATIENCE).committed(SimpleNamespace(ack=ack), None)
    assert acked == ["ack"]
