"""Bad messages never crash a consumer nor loop forever: they are dead-lettered with a reason.

A message that can never be parsed (malformed JSON, schema-invalid, unknown workflow type) is
dead-lettered at once by the consumer, with ``x-equityflow-error`` saying why; the consumer
goes on with the next message. A message that fails for another reason (the database is down)
is retried, and parked by the quorum queue's delivery limit if it never succeeds.
"""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest

from services.bus.consumers import engine_consumer, notices_consumer
from services.bus.runner import running_bus
from services.bus.tap import eventually, take, waiting
from services.bus.topology import ERROR_HEADER, SOURCE_QUEUE_HEADER, Topology
from services.clock import SimulatedClock
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog

pytestmark = pytest.mark.topology(delivery_limit=2)


def _command(**changes: object) -> dict[str, object]:
    command: dict[str, object] = {
        "kind": "command",
        "message_id": str(uuid.uuid4()),
        "company_id": "poison-co",
        "workflow_id": str(uuid.uuid4()),
        "workflow_type": "rofr",
        "command": "deliver_disposition_notice",
        "actor": {"party": "owner", "name": "Olivia Owner"},
        "payload": {},
    }
    command.update(changes)
    return command


async def test_poison_commands_are_dead_lettered_with_their_reason_and_the_next_is_applied(
    pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    valid = _command()
    bodies = [
        (b'{"kind": "command", "message_id": ', "malformed"),
        (json.dumps(_command(actor={"party": "system"})).encode(), "schema-invalid"),
        (json.dumps(_command(workflow_type="no_such_workflow")).encode(), "unknown type"),
        (json.dumps({"kind": "telegram"}).encode(), "unknown kind"),
        (json.dumps(valid).encode(), "valid"),
    ]
    await register_company(pool, "poison-co", "fmp-1998-nso")
    consumer = engine_consumer(pool, SimulatedClock(pool), TermsCatalog(), retry_delay=0.01)
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        for body, label in bodies:
            await bus.publisher.publish(
                body,
                exchange=topology.commands_exchange,
                routing_key="command.rofr.deliver_disposition_notice",
                message_id=label,
            )
        dead = await take(amqp_url, topology.dead_letter_queue.name, 4, within=15)
        # The valid one after them is applied (here: refused, its payload is empty).
        await eventually(
            lambda: pool.fetchval(
                "SELECT outcome FROM inbox WHERE company_id = 'poison-co' AND message_id = $1",
                valid["message_id"],
            )
        )
        assert await waiting(amqp_url, topology.dead_letter_queue.name) == 0
    # Each is dead-lettered as it is handled; poison messages have no effect, so the order in
    # which their dead letters are published is no matter.
    dead.sort(key=lambda m: [label for _, label in bodies].index(m.message_id))
    assert [m.body for m in dead] == [b for b, _ in bodies[:4]]
    assert [m.message_id for m in dead] == [
        "malformed",
        "schema-invalid",
        "unknown type",
        "unknown kind",
    ]
    reasons = [str(m.headers[ERROR_HEADER]) for m in dead]
    assert reasons[0].startswith("Invalid JSON")
    assert "actor.party" in reasons[1] and "reserved for timers" in reasons[1]
    assert reasons[2] == "workflow_type: unknown workflow type 'no_such_workflow'"
    assert "kind" in reasons[3]
    assert {m.headers[SOURCE_QUEUE_HEADER] for m in dead} == {topology.engine_queue.name}
    assert {m.routing_key for m in dead} == {"command.rofr.deliver_disposition_notice"}


async def test_a_message_that_keeps_failing_is_retried_then_parked_by_the_delivery_limit(
    fresh_database_url: str, amqp_url: str, topology: Topology
) -> None:
    pool = await connect(fresh_database_url)
    clock = SimulatedClock(pool)
    await clock.now()
    await pool.close()  # the database is "down": every attempt fails
    event = {
        "kind": "event",
        "event_id": str(uuid.uuid4()),
        "company_id": "acme",
        "workflow_id": str(uuid.uuid4()),
        "workflow_type": "rofr",
        "type": "deadline_set",
        "version": 1,
        "occurred_at": "2026-03-02T17:00:00+00:00",
        "payload": {
            "timer": "t", "party": "company", "action": "exercise_rofr",
            "due_at": "2026-04-01T23:59:59-07:00", "clause": "FMP §6(d)(iii)", "derivation": "d",
        },
    }  # fmt: skip
    body = json.dumps(event).encode()
    consumer = notices_consumer(pool, clock, retry_delay=0.01)
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        await bus.publisher.publish(
            body,
            exchange=topology.events_exchange,
            routing_key="event.rofr.deadline_set",
            message_id=event["event_id"],  # type: ignore[arg-type]
        )
        (parked,) = await take(amqp_url, topology.dead_letter_queue.name, 1, within=15)
    assert parked.body == body
    assert parked.headers["x-first-death-reason"] == "delivery_limit"
    assert ERROR_HEADER not in parked.headers  # not a poison message: a failure, retried
