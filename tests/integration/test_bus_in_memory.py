"""Without AMQP_URL the same consumers run on FastStream's in-memory broker (``equityflow up``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import pytest

from services.bus.consumers import notices_consumer
from services.bus.runner import running_bus
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.relay import relay_once
from services.store.db import connect
from workflows.messages import EventMessage

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)


def _deadline_set() -> EventMessage:
    return EventMessage(
        event_id=str(uuid.uuid4()),
        company_id="acme",
        workflow_id=uuid.uuid4(),
        workflow_type="rofr",
        type="deadline_set",
        version=1,
        occurred_at=NOW,
        payload={
            "timer": "company_election",
            "party": "company",
            "action": "exercise_rofr",
            "due_at": "2026-04-01T23:59:59-07:00",
            "clause": "FMP §6(d)(iii)",
            "derivation": "Disposition Notice effective 2026-03-02 + 30 days",
        },
    )


async def test_in_memory_bus_runs_the_notices_consumer_and_the_relay(
    fresh_database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        topology = Topology("memory")
        event = _deadline_set()
        async with running_bus(None, topology, [notices_consumer(pool, clock)]) as bus:
            assert bus.in_memory
            await pool.execute(
                "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, "
                "body) VALUES ('acme', $1, 'events', 'event.rofr.deadline_set', $2, $3)",
                event.workflow_id,
                event.event_id,
                event.model_dump(mode="json"),
            )
            for body in (b"{", event.model_dump_json().encode()):
                await bus.publisher.publish(
                    body,
                    exchange=topology.events_exchange,
                    routing_key="event.rofr.deadline_set",
                    message_id=event.event_id,
                )
            async with asyncio.timeout(10):
                await bus.drain()
                # The relay publishes the outbox (the same event, deduplicated by the notices
                # consumer, and the action_required it caused).
                while await relay_once(pool, bus.publisher, topology, 10):
                    await bus.drain()
        (letter,) = [r.getMessage() for r in caplog.records if "dead letter" in r.getMessage()]
        assert letter.startswith("dead letter from memory.notices: Invalid JSON")
        assert letter.endswith("body b'{'")
        rows = await pool.fetch("SELECT notice_id, party, action FROM notices")
        assert [tuple(r) for r in rows] == [(event.event_id, "company", "exercise_rofr")]
        types = await pool.fetch("SELECT body->>'type' AS t, sent_at FROM outbox ORDER BY id")
        assert [r["t"] for r in types] == ["deadline_set", "action_required"]
        assert all(r["sent_at"] is not None for r in types)
    finally:
        await pool.close()
