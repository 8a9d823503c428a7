"""A fired timer whose message was lost is fired again, and its deadline takes effect once.

FMP §6(d)(iii): the Company's election window closes 30 days after the Disposition Notice. The
deadlines service publishes the timer message and marks the timer fired; if that message is lost
(an in-memory broker that stopped, a message parked in the dead-letter queue), the window would
never close. The engine marks the timer applied when it records the message; the deadlines
service fires again any timer still unapplied after the grace, with the same message id.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aio_pika
import asyncpg
import pytest
from calls import Calls
from fired import BUNDLES, timers_in, until_fired
from rofr_commands import NOW, disposition_notice

from services.bus.backlog import QueueBacklog
from services.bus.consumers import engine_consumer
from services.bus.publisher import Publisher
from services.bus.runner import running_bus
from services.bus.tap import eventually, take, tap
from services.bus.topology import Topology
from services.clock import Clock, SimulatedClock
from services.deadlines import (
    MAX_BACKLOG_HOLD,
    RefireHold,
    fire_due_timers,
    refire_unapplied_timers,
    run_deadlines,
)
from services.engine import apply
from services.store import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import TimerMessage

PAST_ELECTION = timedelta(days=31)  # the window closes at the end of 2026-04-01, PT
GRACE = timedelta(seconds=60)
Pass = Callable[[asyncpg.Pool, Clock, Publisher, Topology, int], Awaitable[int]]


@pytest.fixture
async def clock(fresh_pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(fresh_pool)
    await simulated.set(NOW)
    return simulated


async def _election_open(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, count: int = 1
) -> list[uuid.UUID]:
    """``count`` FMP transfers whose election window is open (one pending timer each)."""
    await register_company(pool, "fmp", "fmp-1998-nso", "FMP")
    ids = []
    for _ in range(count):
        workflow_id = uuid.uuid4()
        assert (
            await apply(pool, disposition_notice(workflow_id), clock, catalog)
        ).state == "election_window"
        ids.append(workflow_id)
    return ids


async def _timer(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT timer_id, due_at, status, fired_at, applied_at, refires FROM timers "
        "WHERE workflow_id = $1 AND name = 'election_deadline'",
        workflow_id,
    )
    assert row is not None
    return row


async def _state(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> str:
    state: str = await pool.fetchval(
        "SELECT state FROM workflows WHERE workflow_id = $1", workflow_id
    )
    return state


async def _purge_engine_queue(amqp_url: str, topology: Topology) -> int:
    """The timer messages vanish, as a message parked in the dead-letter queue would."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        purged = 0
        for name in (q.name for q in topology.engine_queues):
            queue = await channel.get_queue(name, ensure=True)
            purged += int((await queue.purge()).message_count)
        return purged
    finally:
        await connection.close()


async def test_a_lost_timer_message_is_fired_again_after_the_grace_and_applied_once(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    amqp_url: str,
    topology: Topology,
) -> None:
    [workflow_id] = await _election_open(fresh_pool, clock, catalog)
    await clock.advance(PAST_ELECTION)
    async with running_bus(amqp_url, topology) as bus:  # no engine running
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == 1
    [bundle] = await take(amqp_url, topology.engine_queue_of(workflow_id).name, 1)  # lost
    [lost] = timers_in([bundle])
    timer = await _timer(fresh_pool, workflow_id)
    assert lost.message_id == str(timer["timer_id"])
    assert (timer["status"], timer["fired_at"]) == ("fired", NOW + PAST_ELECTION)

    consumers = [engine_consumer(fresh_pool, clock, catalog)]
    async with (
        running_bus(amqp_url, topology, consumers) as bus,
        tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
    ):
        passes = Calls()
        service = asyncio.create_task(
            run_deadlines(
                fresh_pool,
                clock,
                bus.publisher,
                topology,
                poll_interval=0.05,
                redelivery_grace=GRACE,
                on_pass=passes,
            )
        )
        try:
            await passes.more(2)  # within the grace (on the service's clock): no re-fire
            assert await fired.caught_up() == []
            assert await _state(fresh_pool, workflow_id) == "election_window"

            await clock.advance(GRACE)
            [again] = await until_fired(fired, 1, within=10)
            await eventually(lambda: _reached(fresh_pool, workflow_id, "owner_sale_window"))

            await clock.advance(timedelta(hours=2))  # applied: never fired again
            await passes.more(2)
            await fired.caught_up()
        finally:
            service.cancel()
            await asyncio.gather(service, return_exceptions=True)

    assert again.message_id == lost.message_id  # the same message id: the inbox applies it once
    assert again.timer.timer == "election_deadline"
    assert [t.message_id for t in timers_in(fired.messages)] == [again.message_id]
    timer = await _timer(fresh_pool, workflow_id)
    assert (timer["status"], timer["refires"]) == ("applied", 1)
    assert timer["applied_at"] == NOW + PAST_ELECTION + GRACE
    applied = await fresh_pool.fetchval(
        "SELECT count(*) FROM history WHERE workflow_id = $1 AND message_id = $2",
        workflow_id,
        again.message_id,
    )
    assert applied == 1


async def _reached(pool: asyncpg.Pool, workflow_id: uuid.UUID, state: str) -> bool:
    return await _state(pool, workflow_id) == state


async def test_two_replicas_fire_and_fire_again_each_timer_exactly_once(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    amqp_url: str,
    topology: Topology,
    fresh_database_url: str,
) -> None:
    ids = await _election_open(fresh_pool, clock, catalog, count=40)
    await clock.advance(PAST_ELECTION)
    other = await connect(fresh_database_url)
    replicas = [(fresh_pool, SimulatedClock(fresh_pool)), (other, SimulatedClock(other))]
    try:
        async with (
            running_bus(amqp_url, topology) as one,
            running_bus(amqp_url, topology) as two,
            tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
        ):
            buses = (one, two)

            async def each(work: Pass) -> list[int]:
                """Both replicas at once, in batches of 7, until neither finds more."""

                async def drain(i: int) -> int:
                    total = 0
                    p, c = replicas[i]
                    while n := await work(p, c, buses[i].publisher, topology, 7):
                        total += n
                    return total

                return list(await asyncio.gather(drain(0), drain(1)))

            first = await each(fire_due_timers)
            await fired.caught_up()
            # all lost (bundles: fewer messages than timers)
            assert await _purge_engine_queue(amqp_url, topology) == len(fired.messages)

            assert await each(refire_unapplied_timers) == [0, 0]  # within the grace
            await clock.advance(GRACE)
            again = await each(refire_unapplied_timers)
            await until_fired(fired, 80)
            assert await each(refire_unapplied_timers) == [0, 0]  # the next wait doubles
            await clock.advance(GRACE)
            assert await each(refire_unapplied_timers) == [0, 0]
            await clock.advance(GRACE)
            third = await each(refire_unapplied_timers)
            await until_fired(fired, 120)
            await fired.caught_up()
    finally:
        await other.close()

    assert sum(first) == sum(again) == sum(third) == 40
    assert all(first) and all(again), "both replicas took a share"
    timer_ids = {str((await _timer(fresh_pool, w))["timer_id"]) for w in ids}
    assert Counter(t.message_id for t in timers_in(fired.messages)) == {t: 3 for t in timer_ids}
    refires = await fresh_pool.fetch("SELECT status, refires FROM timers")
    assert {(r["status"], r["refires"]) for r in refires} == {("fired", 2)}


async def test_timers_queued_behind_a_backlog_are_not_fired_again_and_lost_ones_are(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    amqp_url: str,
    topology: Topology,
) -> None:
    """A burst the engine has not reached within the grace: the copies are still queued (a
    durable queue, confirmed), so none is fired again, however long the backlog lasts up to
    the hold; once they are lost (the queue purged) they are; and past the hold they are even
    behind a backlog. Then the engine applies each once."""
    ids = await _election_open(fresh_pool, clock, catalog, count=30)
    await clock.advance(PAST_ELECTION)
    backlog = QueueBacklog(amqp_url, *(q.name for q in topology.engine_queues))
    try:
        async with (
            running_bus(amqp_url, topology) as bus,  # no engine running: the queue grows
            tap(amqp_url, topology.commands_exchange.name, BUNDLES) as fired,
        ):
            hold = RefireHold(backlog, GRACE)

            async def refire() -> int:
                return await refire_unapplied_timers(
                    fresh_pool, clock, bus.publisher, topology, 100, hold=hold
                )

            while await fire_due_timers(fresh_pool, clock, bus.publisher, topology, 7):
                pass
            bundles = len(await fired.caught_up())
            await eventually(lambda: _equals(backlog(), bundles), within=90)

            await clock.advance(GRACE * 10)  # ten graces: every copy still waits in the queue
            assert await refire() == 0
            await fired.caught_up()
            assert len(timers_in(fired.messages)) == 30
            timers = await fresh_pool.fetch("SELECT status, refires FROM timers")
            assert {(r["status"], r["refires"]) for r in timers} == {("fired", 0)}

            # lost after the confirm
            assert await _purge_engine_queue(amqp_url, topology) == bundles
            # Evidence of loss: nothing has waited in the queue for a grace (time enough for
            # an engine to apply what it was delivered). A batch fired again is a backlog of
            # its own: the next one waits until the engine has taken it.
            assert await refire() == 0
            await clock.advance(GRACE)
            assert await refire() == 30
            refired = len(await fired.caught_up()) - bundles
            await eventually(lambda: _equals(backlog(), refired), within=90)

            # The copies wait again; a backlog that never drains holds them only so long.
            await clock.advance(GRACE * 2)  # the next re-fire's time (the wait doubled)
            assert await refire() == 0
            await clock.advance(GRACE * MAX_BACKLOG_HOLD)
            assert await refire() == 30
            await fired.caught_up()
    finally:
        await backlog.close()

    assert Counter(t.message_id for t in timers_in(fired.messages)) == Counter(
        {str((await _timer(fresh_pool, w))["timer_id"]): 3 for w in ids}
    )
    consumers = [engine_consumer(fresh_pool, clock, catalog)]
    async with running_bus(amqp_url, topology, consumers):  # the engine drains the queue
        for w in ids:
            await eventually(lambda w=w: _reached(fresh_pool, w, "owner_sale_window"), within=180)
        await eventually(lambda: _equals(_ready(amqp_url, topology), 0), within=180)
    for w in ids:
        timer = await _timer(fresh_pool, w)
        assert (timer["status"], timer["refires"]) == ("applied", 2)
    history = await fresh_pool.fetch(
        "SELECT workflow_id, count(*) AS n FROM history GROUP BY workflow_id"
    )
    assert {r["n"] for r in history} == {2}  # the notice, and the election window's end: once


async def _equals(value: Awaitable[object], expected: object) -> bool:
    return await value == expected


async def _ready(amqp_url: str, topology: Topology) -> int | None:
    counter = QueueBacklog(amqp_url, *(q.name for q in topology.engine_queues))
    try:
        return await counter()
    finally:
        await counter.close()


async def test_an_in_memory_restart_fires_again_what_was_in_flight_at_once(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, namespace: str
) -> None:
    [workflow_id] = await _election_open(fresh_pool, clock, catalog)
    await clock.advance(PAST_ELECTION)
    topology = Topology(namespace)
    async with running_bus(None, topology) as bus:  # the process stops before delivering it
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == 1
        await bus.drain()
    assert (await _timer(fresh_pool, workflow_id))["status"] == "fired"

    # Restarted with the simulated clock standing still: no grace will ever pass.
    async with running_bus(None, topology, [engine_consumer(fresh_pool, clock, catalog)]) as bus:
        service = asyncio.create_task(
            run_deadlines(fresh_pool, clock, bus.publisher, topology, poll_interval=0.05)
        )
        try:
            await eventually(lambda: _reached(fresh_pool, workflow_id, "owner_sale_window"))
        finally:
            service.cancel()
            await asyncio.gather(service, return_exceptions=True)
    timer = await _timer(fresh_pool, workflow_id)
    assert (timer["status"], timer["refires"]) == ("applied", 1)


async def test_a_timer_message_recorded_before_marks_its_timer_applied(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    amqp_url: str,
    topology: Topology,
) -> None:
    """A redelivered message the inbox already has (say, applied before timers had an applied
    status) still stops the re-fires, and changes nothing else."""
    [workflow_id] = await _election_open(fresh_pool, clock, catalog)
    await clock.advance(PAST_ELECTION)
    timer = await _timer(fresh_pool, workflow_id)
    message = TimerMessage(
        message_id=str(timer["timer_id"]),
        company_id="fmp",
        workflow_id=workflow_id,
        workflow_type="rofr",
        timer="election_deadline",
        due_at=timer["due_at"],
    )
    async with running_bus(amqp_url, topology) as bus:  # fired; the engine is not running
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == 1
    assert (await apply(fresh_pool, message, clock, catalog)).state == "owner_sale_window"
    assert (await _timer(fresh_pool, workflow_id))["status"] == "applied"
    await fresh_pool.execute(
        "UPDATE timers SET status = 'fired' WHERE timer_id = $1", timer["timer_id"]
    )

    assert (await apply(fresh_pool, message, clock, catalog)).status == "duplicate"
    assert (await _timer(fresh_pool, workflow_id))["status"] == "applied"
    assert await fresh_pool.fetchval("SELECT version FROM workflows") == 2
