"""The broker, real or in memory, with the topology declared and the consumers running.

    async with running_bus(settings.amqp_url, topology, [engine_consumer(...)]) as bus:
        ...  # bus.publisher for the relay and the deadlines service

With an AMQP URL: RabbitMQ, every exchange, queue and binding of the topology declared on start
(idempotent; the same definitions as ``deploy/rabbitmq/definitions.json``), publisher confirms,
every publish signed with the URL's user as ``user_id``, and consumers that trust only that user
and ``service_users`` as services (``services.bus.auth``). Without one: FastStream's in-memory
broker, for ``equityflow up`` in a single process, where there are no users to check.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import aio_pika
from faststream.rabbit import Channel, RabbitBroker, TestRabbitBroker
from faststream.rabbit.annotations import RabbitMessage

from services.bus.auth import Gate, amqp_user
from services.bus.consumers import Consumer, EngineService, HandBack, raw_body
from services.bus.publisher import BrokerPublisher, InMemoryPublisher, Publisher
from services.bus.topology import ERROR_HEADER, SOURCE_QUEUE_HEADER, Topology
from services.connections import rabbitmq_unreachable, until_connected
from workflows.messages import CommandMessage, command_routing_key

log = logging.getLogger(__name__)

# Placeholder address for the in-memory broker; it never connects.
_IN_MEMORY_URL = "amqp://guest:guest@localhost:5672/"


@dataclass(frozen=True)
class Bus:
    broker: RabbitBroker
    topology: Topology
    publisher: Publisher
    in_memory: bool

    async def send_command(self, command: CommandMessage) -> None:
        """Publish a command to the engine as this bus's user (on RabbitMQ, a services' user:
        trusted for any company)."""
        await self.publisher.publish(
            command.model_dump_json().encode(),
            exchange=self.topology.commands_exchange,
            routing_key=self.topology.engine_routing_key(
                command_routing_key(command.workflow_type, command.command), command.workflow_id
            ),
            message_id=command.message_id,
        )

    async def drain(self) -> None:
        """In memory: wait until what was published has been handled (no-op on RabbitMQ)."""
        if isinstance(self.publisher, InMemoryPublisher):
            await self.publisher.drain()


def build_broker(amqp_url: str | None, topology: Topology) -> RabbitBroker:
    """A RabbitBroker that publishes with confirms, mandatory, on a channel where a returned
    message raises.

    Every publish is mandatory: a message RabbitMQ cannot route to any queue is returned. On
    aio-pika's default channel a returned message still counts as published, so the relay
    would mark an event sent and a consumer would ack a poison message whose dead letter went
    nowhere; here ``publish`` raises ``aio_pika.exceptions.DeliveryError`` instead, and the
    caller retries.
    """
    return RabbitBroker(
        amqp_url or _IN_MEMORY_URL,
        app_id=topology.namespace,
        graceful_timeout=15.0,
        logger=log,
        # FastStream's two lines for every message ("Received", "Processed") at DEBUG: at
        # INFO they cost the engine more than parsing the message does. Failures stay ERROR.
        log_level=logging.DEBUG,
        default_channel=Channel(publisher_confirms=True, on_return_raises=True),
    )


async def declare_topology(amqp_url: str, topology: Topology) -> None:
    """Declare every exchange, queue and binding (idempotent), on a connection of its own.

    Not through the service's broker: FastStream keeps each queue it declares bound to the
    channel it was declared on, and a consumer of that queue then consumes on that channel,
    not on its own. Declared on the broker's publishing channel, every consumer would share
    it, with no prefetch limit, and with one sequence of delivery tags for all of them: the
    engine, which orders its deliveries by tag, would see the notices' tags as gaps.
    """
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        exchanges = {
            e.name: await channel.declare_exchange(
                e.name, e.type.value, durable=e.durable, auto_delete=e.auto_delete,
                arguments=dict(e.arguments or {}),
            )
            for e in topology.exchanges
        }  # fmt: skip
        queues = {
            q.name: await channel.declare_queue(
                q.name, durable=q.durable, auto_delete=q.auto_delete,
                arguments=dict(q.arguments or {}),
            )
            for q in topology.queues
        }  # fmt: skip
        for b in topology.bindings:
            await queues[b.queue.name].bind(exchanges[b.exchange.name], routing_key=b.routing_key)
        # Only after the shards are bound: a command published meanwhile reaches some queue.
        for b in topology.retired_bindings:
            await queues[b.queue.name].unbind(exchanges[b.exchange.name], routing_key=b.routing_key)
    finally:
        await connection.close()


async def delete_topology(amqp_url: str, topology: Topology) -> None:
    """Remove the namespace's queues and exchanges, with what they hold (tests, demo teardown)."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        for q in topology.queues:
            await channel.queue_delete(q.name)
        for e in topology.exchanges:
            await channel.exchange_delete(e.name)
    finally:
        await connection.close()


def _log_dead_letters(broker: RabbitBroker, topology: Topology) -> None:
    """In memory there is no dead-letter queue to inspect: dead letters go to the log."""

    async def record(body: bytes, message: RabbitMessage) -> None:
        log.warning(
            "dead letter from %s: %s; body %r",
            message.headers.get(SOURCE_QUEUE_HEADER),
            message.headers.get(ERROR_HEADER),
            body[:2000],
        )

    broker.subscriber(
        topology.dead_letter_subscription,
        topology.dead_letter_exchange,
        decoder=raw_body,
        no_reply=True,
        title="dead-letter:log",
    )(record)


@asynccontextmanager
async def running_bus(
    amqp_url: str | None,
    topology: Topology,
    consumers: Sequence[Consumer] = (),
    *,
    service_users: Sequence[str] = (),
) -> AsyncIterator[Bus]:
    """Start the broker (RabbitMQ if ``amqp_url``, else in memory) with ``consumers``.

    ``service_users``: RabbitMQ users of other equityflow services, trusted like this one's.
    """
    broker = build_broker(amqp_url, topology)
    gate = Gate.for_broker(amqp_url, service_users)
    if amqp_url is None:
        memory = InMemoryPublisher(broker)
        hand_backs = [install(broker, topology, memory, gate) for install in consumers]
        _log_dead_letters(broker, topology)
        async with TestRabbitBroker(broker) as started:
            memory.start()
            try:
                yield Bus(started, topology, memory, in_memory=True)
            finally:
                await memory.stop()
                await _hand_back(hand_backs)
        return

    publisher = BrokerPublisher(broker, user_id=amqp_user(amqp_url))
    hand_backs = [install(broker, topology, publisher, gate) for install in consumers]
    await until_connected("RabbitMQ", broker.connect, rabbitmq_unreachable)

    async def start() -> None:
        try:
            await broker.start()
        except Exception:
            await broker.stop()  # the next attempt connects afresh
            raise

    try:
        await declare_topology(amqp_url, topology)
        # Starting can fail where it would pass a moment later: RabbitMQ 3.10 closes the
        # connection (541 INTERNAL_ERROR) on a consume of a quorum queue that another process
        # has just declared and whose replica is not running yet.
        await until_connected("RabbitMQ", start, rabbitmq_unreachable)
        for hand_back in hand_backs:
            if isinstance(hand_back, EngineService):  # consumes on a connection of its own
                await until_connected(
                    "RabbitMQ", partial(hand_back.start, amqp_url), rabbitmq_unreachable
                )
        yield Bus(broker, topology, publisher, in_memory=False)
    finally:
        try:
            await _hand_back(hand_backs)
        finally:
            await broker.stop()


async def _hand_back(hand_backs: Sequence[HandBack | None]) -> None:
    for hand_back in hand_backs:
        if hand_back is not None:
            await hand_back()
