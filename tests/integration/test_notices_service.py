"""The notices service records who must act by when, and each notice's effective time, once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from calls import Calls

from services.bus.consumers import notices_consumer
from services.bus.runner import running_bus
from services.bus.tap import eventually, take
from services.bus.topology import ERROR_HEADER, SOURCE_QUEUE_HEADER, Topology
from services.clock import SimulatedClock
from services.store.db import connect
from workflows.messages import EventMessage, event_routing_key

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _event(event_type: str, payload: dict[str, Any]) -> EventMessage:
    return EventMessage(
        event_id=str(uuid.uuid4()),
        company_id="acme",
        workflow_id=uuid.uuid4(),
        workflow_type="rofr",
        type=event_type,
        version=2,
        occurred_at=NOW,
        payload=payload,
        caused_by="cmd-1",
    )


DEADLINE = {
    "timer": "company_election",
    "timer_id": str(uuid.uuid4()),
    "party": "company",
    "action": "exercise_rofr",
    "due_at": "2026-04-01T23:59:59-07:00",
    "clause": "FMP §6(d)(iii)",
    "derivation": "Disposition Notice effective 2026-03-02 + 30 days",
}
NOTICE = {
    "kind": "disposition_notice",
    "from_party": "owner",
    "to_party": "company",
    "method": "certified_mail",
    "effective_at": "2026-03-05T09:00:00-08:00",
    "clause": "FMP §16(b)",
    "derivation": "deposited 2026-03-02 09:00 + 72 hours",
}


async def _wait_rows(pool: asyncpg.Pool, sql: str, count: int) -> None:
    async def enough() -> bool:
        return bool(await pool.fetchval(sql) >= count)

    await eventually(enough)


async def test_deadlines_and_notices_are_recorded_once_with_an_action_required_event(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        deadline = _event("deadline_set", DEADLINE)
        notice = _event("disposition_notice_delivered", {"notice": NOTICE, "shares": 100})
        unrelated = _event("rofr_exercised", {"shares": 100})
        acked = Calls()
        consumer = notices_consumer(pool, clock, on_acked=acked)
        async with running_bus(amqp_url, topology, [consumer]) as bus:
            for event in (deadline, deadline, notice, unrelated, notice, deadline):  # redelivered
                await bus.publisher.publish(
                    event.model_dump_json().encode(),
                    exchange=topology.events_exchange,
                    routing_key=event_routing_key(
                        event.company_id, event.workflow_type, event.type
                    ),
                    message_id=event.event_id,
                )
            await acked.reach(6)  # every one handled, the redeliveries too
        rows = {r["notice_id"]: r for r in await pool.fetch("SELECT * FROM notices")}
        assert set(rows) == {deadline.event_id, notice.event_id}
        d = rows[deadline.event_id]
        assert (d["party"], d["action"], d["clause"]) == (
            "company",
            "exercise_rofr",
            "FMP §6(d)(iii)",
        )
        assert d["due_at"] == datetime.fromisoformat(DEADLINE["due_at"])
        assert d["workflow_id"] == deadline.workflow_id and d["recorded_at"] == NOW
        n = rows[notice.event_id]
        assert (n["kind"], n["party"], n["clause"]) == (
            "disposition_notice",
            "company",
            "FMP §16(b)",
        )
        assert n["effective_at"] == datetime.fromisoformat(NOTICE["effective_at"])

        (out,) = await pool.fetch("SELECT * FROM outbox")  # one action_required, not three
        assert out["routing_key"] == "event.acme.rofr.action_required"
        assert out["exchange"] == "events"
        body = EventMessage.model_validate(out["body"])
        assert body.type == "action_required" and body.caused_by == deadline.event_id
        assert body.event_id == out["message_id"]
        assert body.payload == {
            "party": "company",
            "action": "exercise_rofr",
            "due_at": "2026-04-01T23:59:59-07:00",
            "clause": "FMP §6(d)(iii)",
            "derivation": DEADLINE["derivation"],
            "timer": "company_election",
            "workflow": {
                "workflow_id": str(deadline.workflow_id),
                "workflow_type": "rofr",
                "company_id": "acme",
            },
        }
    finally:
        await pool.close()


async def test_a_malformed_event_is_dead_lettered_and_the_next_one_recorded(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        broken = _event("deadline_set", {**DEADLINE, "due_at": "the first of april"})
        good = _event("deadline_set", DEADLINE)
        async with running_bus(amqp_url, topology, [notices_consumer(pool, clock)]) as bus:
            for body, mid in (
                (b"not json", "m-1"),
                (broken.model_dump_json().encode(), broken.event_id),
                (good.model_dump_json().encode(), good.event_id),
            ):
                await bus.publisher.publish(
                    body,
                    exchange=topology.events_exchange,
                    routing_key="event.rofr.deadline_set",
                    message_id=mid,
                )
            await _wait_rows(pool, "SELECT count(*) FROM notices", 1)
            dead = await take(amqp_url, topology.dead_letter_queue.name, 2)
        assert [m.body for m in dead] == [b"not json", broken.model_dump_json().encode()]
        assert "Invalid JSON" in str(dead[0].headers[ERROR_HEADER])
        assert "payload: due_at" in str(dead[1].headers[ERROR_HEADER])
        assert {m.headers[SOURCE_QUEUE_HEADER] for m in dead} == {topology.notices_queue.name}
        assert await pool.fetchval("SELECT notice_id FROM notices") == good.event_id
        assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
    finally:
        await pool.close()
