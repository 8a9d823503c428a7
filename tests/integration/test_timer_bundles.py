"""Bundles of timers over RabbitMQ: each timer of a bundle is applied once, as if it had come
alone, in order with its workflow's commands; a timer that can never be applied is dead-lettered
alone; a bundle the engine did not finish comes back whole and applies nothing twice."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
import pytest
from rofr_commands import NOW, rofr_command

from services.bus.auth import amqp_user
from services.bus.consumers import engine_consumer
from services.bus.publisher import BrokerPublisher
from services.bus.redrive import redrive
from services.bus.runner import running_bus
from services.bus.tap import eventually, take, tap, waiting
from services.bus.topology import ERROR_HEADER, ROUTING_KEY_HEADER, SOURCE_QUEUE_HEADER, Topology
from services.clock import SimulatedClock
from services.deadlines import fire_due_timers
from services.terms_catalog import TermsCatalog
from tests.integration.test_timer_recovery import PAST_ELECTION, _election_open, _timer
from workflows.messages import TimerMessage

WORKFLOWS = 5


# One shard: every due timer goes in one bundle. Three deliveries before a failing message is
# given up (dead-lettered).
pytestmark = pytest.mark.topology(engine_shards=1, delivery_limit=3)


@pytest.fixture
async def clock(fresh_pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(fresh_pool)
    await simulated.set(NOW)
    return simulated


async def _due(pool: asyncpg.Pool, clock: SimulatedClock, count: int) -> list[uuid.UUID]:
    """``count`` ROFR workflows whose election deadline is due (one pending timer each)."""
    ids = await _election_open(pool, clock, TermsCatalog(), count)
    await clock.advance(PAST_ELECTION)
    return ids


async def _states(pool: asyncpg.Pool, ids: list[uuid.UUID]) -> set[str]:
    rows = await pool.fetch("SELECT state FROM workflows WHERE workflow_id = ANY($1)", ids)
    return {r["state"] for r in rows}


async def _applied_once(pool: asyncpg.Pool, ids: list[uuid.UUID]) -> None:
    """Each workflow's election deadline took effect, recorded once in its history."""
    for workflow_id in ids:
        timer = await _timer(pool, workflow_id)
        assert timer["status"] == "applied"
        recorded = await pool.fetchval(
            "SELECT count(*) FROM history WHERE workflow_id = $1 AND message_id = $2",
            workflow_id,
            str(timer["timer_id"]),
        )
        assert recorded == 1
    assert await _states(pool, ids) == {"owner_sale_window"}


async def test_a_bundle_applies_each_timer_once_before_a_command_sent_after_it(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> None:
    ids = await _due(fresh_pool, clock, WORKFLOWS)
    engine = engine_consumer(fresh_pool, clock, TermsCatalog())
    async with running_bus(amqp_url, topology, [engine]) as bus:
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == WORKFLOWS
        # Sent once the bundle is confirmed, to the same queue: applied after its timer.
        late = rofr_command(ids[0], "assign_rofr", "company", assignee="Late Assignee")
        await bus.send_command(late)
        await eventually(lambda: _equals(_states(fresh_pool, ids), {"owner_sale_window"}))
        await eventually(lambda: _equals(_version(fresh_pool, ids[0]), 3))
    await _applied_once(fresh_pool, ids)
    history = await fresh_pool.fetch(
        "SELECT message_id FROM history WHERE workflow_id = $1 ORDER BY seq", ids[0]
    )
    timer = await _timer(fresh_pool, ids[0])
    assert [r["message_id"] for r in history][1:] == [str(timer["timer_id"]), late.message_id]
    assert await waiting(amqp_url, topology.engine_shard_queue(0).name) == 0  # acknowledged


class FailingFromSecond:
    """The engine's pool, but only its first transaction can start: the database "goes down"
    after one batch."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool, self.asked = pool, 0

    def acquire(self) -> Any:
        self.asked += 1
        if self.asked > 1:
            raise ConnectionRefusedError("the database is down")
        return self.pool.acquire()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.pool, name)


async def test_a_bundle_the_engine_stopped_in_comes_back_whole_and_applies_nothing_twice(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> None:
    ids = await _due(fresh_pool, clock, WORKFLOWS)
    failing = FailingFromSecond(fresh_pool)
    # One timer a batch: the first is applied, the others fail and wait to be tried again.
    stopped = engine_consumer(failing, clock, TermsCatalog(), batch_size=1, retry_delay=60)  # type: ignore[arg-type]
    async with running_bus(amqp_url, topology, [stopped]) as bus:
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == WORKFLOWS
        applied = "SELECT count(*) FROM timers WHERE status = 'applied'"
        await eventually(lambda: _equals(fresh_pool.fetchval(applied), 1))
        await eventually(lambda: _at_least(failing, 2))
    assert await fresh_pool.fetchval(applied) == 1
    # Not acknowledged: back in the queue, whole.
    queue = topology.engine_shard_queue(0).name
    assert await eventually(lambda: waiting(amqp_url, queue)) == 1

    async with running_bus(
        amqp_url, topology, [engine_consumer(fresh_pool, clock, TermsCatalog())]
    ):
        await eventually(lambda: _equals(_states(fresh_pool, ids), {"owner_sale_window"}))
        await eventually(lambda: _equals(fresh_pool.fetchval(applied), WORKFLOWS))
    await _applied_once(fresh_pool, ids)  # the one applied before was a duplicate
    assert await waiting(amqp_url, queue) == 0  # acknowledged this time
    assert await waiting(amqp_url, topology.dead_letter_queue.name) == 0


async def _break(pool: asyncpg.Pool, timer_id: uuid.UUID, sqlstate: str) -> None:
    """Recording this timer's message fails with ``sqlstate`` (22…: the message's fault, for
    good; P0001: a failure that might pass), and only this one's."""
    await pool.execute(
        f"""
        CREATE OR REPLACE FUNCTION fail_{sqlstate}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN RAISE EXCEPTION 'refused by the test' USING ERRCODE = '{sqlstate}'; END $$;
        CREATE TRIGGER fail_{sqlstate} BEFORE INSERT ON inbox FOR EACH ROW
        WHEN (NEW.message_id = '{timer_id}') EXECUTE FUNCTION fail_{sqlstate}();
        """
    )


async def test_a_timer_that_cannot_be_applied_is_dead_lettered_alone_and_the_rest_applied(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> None:
    ids = await _due(fresh_pool, clock, WORKFLOWS)
    poison, failing = [(await _timer(fresh_pool, w))["timer_id"] for w in ids[1:3]]
    await _break(fresh_pool, poison, "22023")  # invalid_parameter_value: the message's fault
    await _break(fresh_pool, failing, "P0001")  # fails on every attempt, up to the delivery limit
    engine = engine_consumer(fresh_pool, clock, TermsCatalog(), retry_delay=0.01)
    queue = topology.engine_shard_queue(0).name
    async with (
        running_bus(amqp_url, topology, [engine]) as bus,
        tap(amqp_url, topology.dead_letter_exchange.name) as dead_letters,
    ):
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == WORKFLOWS
        dead = await dead_letters.wait_for(2, within=30)
        await eventually(
            lambda: _equals(_states(fresh_pool, [ids[0], *ids[3:]]), {"owner_sale_window"})
        )
        assert await dead_letters.caught_up() == dead  # those two alone
    await _applied_once(fresh_pool, [ids[0], *ids[3:]])
    assert await waiting(amqp_url, queue) == 0  # the bundle acknowledged

    by_id = {m.message_id: m for m in dead}
    assert set(by_id) == {str(poison), str(failing)}
    for workflow_id, timer_id in zip(ids[1:3], (poison, failing), strict=True):
        letter = by_id[str(timer_id)]
        timer = await _timer(fresh_pool, workflow_id)
        alone = TimerMessage(
            message_id=str(timer_id), company_id="fmp", workflow_id=workflow_id,
            workflow_type="rofr", timer="election_deadline", due_at=timer["due_at"],
        )  # fmt: skip
        assert letter.body == alone.model_dump_json().encode()  # a timer message of its own
        assert letter.routing_key == "timer.rofr.election_deadline.0"
        assert letter.headers[ROUTING_KEY_HEADER] == "timer.rofr.election_deadline.0"
        assert letter.headers[SOURCE_QUEUE_HEADER] == queue
        assert timer["status"] == "fired"  # not applied: fired again after its grace
    assert "SQLSTATE 22023" in str(by_id[str(poison)].headers[ERROR_HEADER])
    assert str(by_id[str(failing)].headers[ERROR_HEADER]).startswith("failed 3 times (")

    # Once the cause is gone, redrive sends each back as a single timer message: applied.
    await fresh_pool.execute("DROP TRIGGER fail_22023 ON inbox; DROP TRIGGER fail_P0001 ON inbox")
    async with running_bus(
        amqp_url, topology, [engine_consumer(fresh_pool, clock, TermsCatalog())]
    ):
        letters = await redrive(amqp_url, topology, include_poison=True)
        assert sorted(x.message_id for x in letters if x.redriven) == sorted(by_id)
        await eventually(lambda: _equals(_states(fresh_pool, ids), {"owner_sale_window"}))
    await _applied_once(fresh_pool, ids)


async def test_a_malformed_bundle_is_dead_lettered_with_its_reason(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> None:
    [workflow_id] = await _due(fresh_pool, clock, 1)
    timer = await _timer(fresh_pool, workflow_id)
    good = TimerMessage(
        message_id=str(timer["timer_id"]), company_id="fmp", workflow_id=workflow_id,
        workflow_type="rofr", timer="election_deadline", due_at=timer["due_at"],
    ).model_dump_json()  # fmt: skip
    malformed = {
        "unknown-field": f'{{"kind":"timers","timers":[{good}],"shard":0}}',
        "empty": '{"kind":"timers","timers":[]}',
        "not-json": '{"kind":"timers","timers":[',
        "unknown-type": '{"kind":"timers","timers":['
        + good.replace('"rofr"', '"no_such_workflow"')
        + "]}",
    }
    engine = engine_consumer(fresh_pool, clock, TermsCatalog())
    async with running_bus(amqp_url, topology, [engine]) as bus:
        for message_id, body in malformed.items():
            await bus.publisher.publish(
                body.encode(), exchange=topology.commands_exchange,
                routing_key=topology.timer_bundle_routing_key(0), message_id=message_id,
            )  # fmt: skip
        dead = await take(amqp_url, topology.dead_letter_queue.name, len(malformed), within=30)
    reasons = {m.message_id: str(m.headers[ERROR_HEADER]) for m in dead}
    assert set(reasons) == set(malformed)
    assert "shard: Extra inputs are not permitted" in reasons["unknown-field"]
    assert "timers: List should have at least 1 item" in reasons["empty"]
    assert "Invalid JSON" in reasons["not-json"] or "EOF" in reasons["not-json"]
    assert "timers.0.workflow_type: unknown workflow type" in reasons["unknown-type"]
    assert {m.body for m in dead} == {b.encode() for b in malformed.values()}  # as sent
    assert {m.routing_key for m in dead} == {"timers.0"}
    assert (await _timer(fresh_pool, workflow_id))["status"] == "pending"  # nothing applied


async def _version(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> int:
    version: int = await pool.fetchval(
        "SELECT version FROM workflows WHERE workflow_id = $1", workflow_id
    )
    return version


async def _equals(value: Any, expected: object) -> bool:
    return await value == expected


async def _at_least(pool: FailingFromSecond, count: int) -> bool:
    return pool.asked >= count


class _CannotDeadLetterAlone(BrokerPublisher):
    """The service's publisher to RabbitMQ, but a timer dead-lettered alone (its own message
    id) fails, as when the dead-letter exchange refuses it; the bundle's own letter goes out."""

    def __init__(self, broker: Any, user_id: str | None, timer_ids: set[str]) -> None:
        super().__init__(broker, user_id=user_id)
        self.timer_ids = timer_ids

    async def publish(self, body: bytes, **kwargs: Any) -> None:
        if kwargs["message_id"] in self.timer_ids:
            raise RuntimeError("refused by the test")
        await super().publish(body, **kwargs)


async def test_a_timer_that_cannot_be_dead_lettered_alone_takes_its_bundle_to_the_dead_letters(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> None:
    ids = await _due(fresh_pool, clock, WORKFLOWS)
    poison = (await _timer(fresh_pool, ids[1]))["timer_id"]
    await _break(fresh_pool, poison, "22023")  # the message's fault: never applied
    engine = engine_consumer(fresh_pool, clock, TermsCatalog(), retry_delay=0.01)

    def install(broker: Any, topology: Topology, publisher: Any, gate: Any) -> Any:
        failing = _CannotDeadLetterAlone(broker, amqp_user(amqp_url), {str(poison)})
        return engine(broker, topology, failing, gate)

    queue = topology.engine_shard_queue(0).name
    async with (
        running_bus(amqp_url, topology, [install]) as bus,
        tap(amqp_url, topology.dead_letter_exchange.name) as dead_letters,
    ):
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == WORKFLOWS
        [letter] = await dead_letters.wait_for(1, within=30)
        assert await dead_letters.caught_up() == [letter]  # the bundle, once
    others = [ids[0], *ids[2:]]
    await _applied_once(fresh_pool, others)
    assert await waiting(amqp_url, queue) == 0  # the bundle is done with here
    assert letter.routing_key == "timers.0"  # the whole bundle, as it came
    assert {t["message_id"] for t in json.loads(letter.body)["timers"]} == {
        str((await _timer(fresh_pool, w))["timer_id"]) for w in ids
    }
    reason = str(letter.headers[ERROR_HEADER])
    assert f"timers {poison} of this bundle cannot be applied" in reason
    assert "could not be dead-lettered alone (RuntimeError: refused by the test)" in reason
    assert (await _timer(fresh_pool, ids[1]))["status"] == "fired"

    # Sent back once the cause is gone: the poison timer applies, the others are duplicates.
    await fresh_pool.execute("DROP TRIGGER fail_22023 ON inbox")
    async with running_bus(
        amqp_url, topology, [engine_consumer(fresh_pool, clock, TermsCatalog())]
    ):
        letters = await redrive(amqp_url, topology, include_poison=True)
        assert [x.redriven for x in letters] == [True]
        await eventually(lambda: _equals(_states(fresh_pool, ids), {"owner_sale_window"}))
    await _applied_once(fresh_pool, ids)
