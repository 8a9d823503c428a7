"""Redrive: messages parked in the dead-letter queue, sent back to where they were going.

The dead-letter queue holds two kinds of message:

- *poison*: dead-lettered by a consumer because it can never be handled (malformed JSON,
  schema-invalid, unknown workflow type); ``x-equityflow-error`` says why. Sent back, it would
  fail the same way, so it stays unless asked for (``include_poison``);
- *failed*: parked by RabbitMQ when it reached its work queue's delivery limit (say, after a
  long database outage); RabbitMQ's ``x-first-death-*`` headers say why (``delivery_limit``)
  and from which queue. Once the cause is fixed it can be handled: it is sent back.

A message goes back with its body, message id and original routing key (the one the consumer
recorded in ``x-equityflow-routing-key``, else RabbitMQ's ``x-death`` record of it, else the
dead letter's own: the dead-letter exchange keeps it) to the exchange of this namespace that
routes that key: commands and timers to the commands exchange, events to the events exchange.
Sending back a command that had in fact been applied is harmless: the engine's inbox answers
it as a duplicate.

Each message is published (confirmed; a message nothing would receive raises) before it is
acked in the dead-letter queue, so a crash in between sends it twice, never loses it. The
messages left in place are held until the pass ends, so a pass sees each message once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage
from aio_pika.exceptions import ChannelNotFoundEntity, DeliveryError

from services.bus.topology import (
    ERROR_HEADER,
    REDRIVEN_HEADER,
    ROUTING_KEY_HEADER,
    SOURCE_QUEUE_HEADER,
    Topology,
)

# Headers that describe the dead-lettering, not the message: not sent back with it.
_DEATH_HEADERS = {ERROR_HEADER, SOURCE_QUEUE_HEADER, ROUTING_KEY_HEADER, "x-delivery-count"}
_DEATH_PREFIXES = ("x-death", "x-first-death", "x-last-death")


class RedriveError(RuntimeError):
    """The dead-letter queue or an exchange to send back to does not exist."""


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter queue, and what was done with it."""

    message_id: str
    routing_key: str
    error: str
    poison: bool
    action: str
    redriven: bool = False

    def line(self) -> str:
        return f"{self.message_id or '-'} {self.routing_key}: {self.error} → {self.action}"


def original_routing_key(message: AbstractIncomingMessage) -> str:
    headers = message.headers or {}
    recorded = headers.get(ROUTING_KEY_HEADER)
    if recorded:
        return _text(recorded)
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], Mapping):
        keys = deaths[0].get("routing-keys")
        if isinstance(keys, list) and keys:
            return _text(keys[0])
    return message.routing_key or ""


def dead_letter_error(message: AbstractIncomingMessage) -> str:
    """Why it was dead-lettered: the consumer's error, or RabbitMQ's reason and queue."""
    headers = message.headers or {}
    if ERROR_HEADER in headers:
        return _text(headers[ERROR_HEADER])
    reason = headers.get("x-first-death-reason")
    if reason is None:
        return "no reason recorded"
    queue = headers.get("x-first-death-queue")
    return f"{_text(reason)} in {_text(queue)}" if queue else _text(reason)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _destination(topology: Topology, routing_key: str) -> str | None:
    kind = routing_key.split(".", 1)[0]
    if kind in ("command", "timer"):
        return topology.commands_exchange.name
    if kind == "event":
        return topology.events_exchange.name
    return None


def _resent(message: AbstractIncomingMessage) -> aio_pika.Message:
    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if k not in _DEATH_HEADERS and not k.startswith(_DEATH_PREFIXES)
    }
    previous = (message.headers or {}).get(REDRIVEN_HEADER, 0)
    headers[REDRIVEN_HEADER] = (previous if isinstance(previous, int) else 0) + 1
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        app_id=message.app_id,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def redrive(
    amqp_url: str,
    topology: Topology,
    *,
    limit: int | None = None,
    dry_run: bool = False,
    include_poison: bool = False,
) -> list[DeadLetter]:
    """Send back up to ``limit`` dead letters (all of them if None); say what became of each."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        exchanges = await _exchanges(connection, topology)
        source = await connection.channel()
        try:
            queue = await source.get_queue(topology.dead_letter_queue.name, ensure=True)
        except ChannelNotFoundEntity:
            raise RedriveError(f"no dead-letter queue {topology.dead_letter_queue.name}") from None
        held: list[AbstractIncomingMessage] = []
        done: list[DeadLetter] = []
        try:
            while limit is None or len(done) < limit:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                result = await _one(message, topology, exchanges, dry_run, include_poison)
                done.append(result)
                if result.redriven:
                    await message.ack()
                else:
                    held.append(message)
        finally:
            for message in held:  # back in the queue, for a later pass
                await message.nack(requeue=True)
        return done
    finally:
        await connection.close()


async def _exchanges(
    connection: aio_pika.abc.AbstractConnection, topology: Topology
) -> dict[str, AbstractExchange]:
    # Confirms and mandatory publishing, where a returned message raises: a message is acked
    # in the dead-letter queue only once a work queue has it.
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    found = {}
    for exchange in (topology.commands_exchange, topology.events_exchange):
        try:
            found[exchange.name] = await channel.get_exchange(exchange.name, ensure=True)
        except ChannelNotFoundEntity:
            raise RedriveError(f"no exchange {exchange.name}") from None
    return found


async def _one(
    message: AbstractIncomingMessage,
    topology: Topology,
    exchanges: Mapping[str, AbstractExchange],
    dry_run: bool,
    include_poison: bool,
) -> DeadLetter:
    routing_key = original_routing_key(message)
    poison = ERROR_HEADER in (message.headers or {})

    def outcome(action: str, redriven: bool = False) -> DeadLetter:
        return DeadLetter(
            message.message_id or "", routing_key, dead_letter_error(message), poison, action,
            redriven,
        )  # fmt: skip

    destination = _destination(topology, routing_key)
    if destination is None:
        return outcome("left: no exchange of this namespace routes this key")
    if poison and not include_poison:
        return outcome("left: poison, it would fail again (--all sends it back)")
    if dry_run:
        return outcome(f"would be sent back to {destination}")
    try:
        await exchanges[destination].publish(_resent(message), routing_key, mandatory=True)
    except DeliveryError as e:
        return outcome(f"left: {destination} did not take it ({e})")
    return outcome(f"sent back to {destination}", redriven=True)
