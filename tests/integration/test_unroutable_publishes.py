"""A message RabbitMQ cannot route anywhere is not sent: nobody marks it done.

Every publish is mandatory. When no queue is bound to receive it, RabbitMQ returns it: the
relay then leaves its outbox row unsent and sends it once a queue is there, and a consumer whose
dead letter had nowhere to go nacks the poison message (it stays queued) instead of acking it
into nothing.
"""

from __future__ import annotations

import uuid

import aio_pika
import asyncpg
import pytest
from aio_pika.exceptions import DeliveryError

from services.bus.consumers import engine_consumer
from services.bus.publisher import BrokerPublisher
from services.bus.runner import build_broker, declare_topology, running_bus
from services.bus.tap import eventually, take, waiting
from services.bus.topology import ERROR_HEADER, Topology
from services.clock import SimulatedClock
from services.relay import relay_once
from services.terms_catalog import TermsCatalog


async def _exchanges_only(amqp_url: str, topology: Topology) -> None:
    broker = build_broker(amqp_url, topology)
    await broker.connect()
    try:
        for exchange in topology.exchanges:
            await broker.declare_exchange(exchange)
    finally:
        await broker.stop()


async def test_publishing_what_no_queue_would_receive_raises(
    amqp_url: str, topology: Topology
) -> None:
    await _exchanges_only(amqp_url, topology)
    broker = build_broker(amqp_url, topology)
    await broker.connect()
    try:
        with pytest.raises(DeliveryError, match="NO_ROUTE"):
            await BrokerPublisher(broker).publish(
                b'{"kind": "event"}',
                exchange=topology.events_exchange,
                routing_key="event.rofr.rofr_exercised",
                message_id="unroutable",
            )
    finally:
        await broker.stop()


async def test_the_relay_leaves_a_row_no_queue_would_receive_unsent_then_sends_it(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology
) -> None:
    event_id = str(uuid.uuid4())
    await fresh_pool.execute(
        "INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body) "
        "VALUES ('acme', NULL, 'events', 'event.rofr.rofr_exercised', $1, $2)",
        event_id,
        {"event_id": event_id},
    )
    await _exchanges_only(amqp_url, topology)  # nothing bound: the notices queue is missing
    broker = build_broker(amqp_url, topology)
    await broker.connect()
    try:
        with pytest.raises(DeliveryError):
            await relay_once(fresh_pool, BrokerPublisher(broker), topology)
        assert await fresh_pool.fetchval("SELECT sent_at FROM outbox") is None

        await declare_topology(amqp_url, topology)  # the queue is back
        assert await relay_once(fresh_pool, BrokerPublisher(broker), topology) == 1
    finally:
        await broker.stop()
    assert await fresh_pool.fetchval("SELECT sent_at FROM outbox") is not None
    [delivered] = await take(amqp_url, topology.notices_queue.name, 1)
    assert delivered.message_id == event_id


async def _logged(caplog: pytest.LogCaptureFixture, text: str, times: int) -> bool:
    return sum(text in r.getMessage() for r in caplog.records) >= times


async def test_a_poison_message_whose_dead_letter_goes_nowhere_stays_queued(
    fresh_pool: asyncpg.Pool, amqp_url: str, topology: Topology, caplog: pytest.LogCaptureFixture
) -> None:
    body = b'{"kind": "command", "message_id": '  # malformed: dead-lettered, never applied
    consumer = engine_consumer(
        fresh_pool, SimulatedClock(fresh_pool), TermsCatalog(), retry_delay=0.05
    )
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        await _unbind_dead_letter_queue(amqp_url, topology)
        await bus.publisher.publish(
            body,
            exchange=topology.commands_exchange,
            routing_key="command.rofr.exercise_rofr",
            message_id="poison",
        )
        # Handled, its dead letter returned, nacked: twice over.
        await eventually(lambda: _logged(caplog, "could not dead-letter poison", 2), within=30)
    [kept] = await take(amqp_url, topology.engine_queue.name, 1, within=10)
    assert (kept.body, kept.message_id) == (body, "poison")
    assert int(kept.headers["x-delivery-count"]) >= 2  # returned to the queue each time
    assert await waiting(amqp_url, topology.dead_letter_queue.name) == 0

    # Starting again declares the topology, binding the dead-letter queue: parked there now.
    async with running_bus(amqp_url, topology, [consumer]) as bus:
        await bus.publisher.publish(
            body,
            exchange=topology.commands_exchange,
            routing_key="command.rofr.exercise_rofr",
            message_id="poison",
        )
        [parked] = await take(amqp_url, topology.dead_letter_queue.name, 1, within=10)
    assert parked.body == body and str(parked.headers[ERROR_HEADER]).startswith("Invalid JSON")


async def _unbind_dead_letter_queue(amqp_url: str, topology: Topology) -> None:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(topology.dead_letter_queue.name, ensure=True)
        await queue.unbind(topology.dead_letter_exchange.name, routing_key="#")
    finally:
        await connection.close()
