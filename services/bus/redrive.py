"""Redrive: messages parked in the dead-letter queue, sent back to the queue that parked them.

The dead-letter queue holds two kinds of message:

- *poison*: dead-lettered by a consumer because it can never be handled (malformed JSON,
  schema-invalid, unknown workflow type); ``x-equityflow-error`` says why. Sent back, it would
  fail the same way, so it stays unless asked for (``include_poison``);
- *failed*: parked by RabbitMQ when it reached its work queue's delivery limit (say, after a
  long database outage); RabbitMQ's ``x-first-death-*`` headers say why (``delivery_limit``)
  and from which queue. Once the cause is fixed it can be handled: it is sent back.

A message goes back, with its body, message id and headers, to the work queue it was
dead-lettered from (``x-equityflow-source-queue``, else RabbitMQ's ``x-first-death-queue``)
and to no other: through the default exchange, routing key = that queue. Sent to its exchange
instead, an event would reach every queue bound there, and each integration would get a copy
of an event it had already handled. The original routing key travels in
``x-equityflow-routing-key`` (a consumer that dead-letters the message again keeps it), and
``x-equityflow-redriven`` counts how many times the message has been sent back. Sending back a
command that had in fact been applied is harmless: the engine's inbox answers it as a
duplicate. It goes back as this connection's user's publish (``user_id``), naming the sender the
consumers authenticated in ``x-equityflow-sender`` (``services.bus.auth``): an integration's
command is judged again as that integration's, never as the services'.

A pass looks at most at the messages the queue held when it started: a poison message sent back
is dead-lettered again by a running engine within milliseconds, and a pass that read until the
queue was empty would send it round forever. Within a pass a message id is sent back once; a
second copy (a message dead-lettered twice) is left in place.

Each message is published (confirmed; a message nothing would receive raises) before it is
acked in the dead-letter queue, so a crash in between sends it twice, never loses it. The
messages left in place are held until the pass ends, so a pass sees each message once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
from aio_pika.abc import AbstractExchange, AbstractIncomingMessage
from aio_pika.exceptions import ChannelNotFoundEntity, DeliveryError

from services.bus.auth import SENDER_HEADER, Gate, amqp_user
from services.bus.topology import (
    ERROR_HEADER,
    REDRIVEN_HEADER,
    ROUTING_KEY_HEADER,
    SOURCE_QUEUE_HEADER,
    Topology,
)

# Headers that describe the dead-lettering, not the message: not sent back with it.
_DEATH_HEADERS = {ERROR_HEADER, SOURCE_QUEUE_HEADER, "x-delivery-count"}
_DEATH_PREFIXES = ("x-death", "x-first-death", "x-last-death")


class RedriveError(RuntimeError):
    """The dead-letter queue does not exist."""


@dataclass(frozen=True)
class DeadLetter:
    """One message of the dead-letter queue, and what was done with it."""

    message_id: str
    routing_key: str
    error: str
    poison: bool
    action: str
    redriven: bool = False
    #: Times the message had been sent back before this pass found it in the queue.
    rounds: int = 0

    def line(self) -> str:
        rounds = f" (sent back {self.rounds} time{'s' * (self.rounds != 1)} before)"
        return (
            f"{self.message_id or '-'} {self.routing_key}: {self.error} → {self.action}"
            f"{rounds if self.rounds else ''}"
        )


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


def source_queue(message: AbstractIncomingMessage) -> str:
    """The work queue the message was dead-lettered from ('' if nothing says)."""
    headers = message.headers or {}
    for name in (SOURCE_QUEUE_HEADER, "x-first-death-queue"):
        if headers.get(name):
            return _text(headers[name])
    return ""


def times_redriven(headers: Mapping[str, Any] | None) -> int:
    """``x-equityflow-redriven``: an int as redrive sets it, a string once a consumer carried it."""
    value = (headers or {}).get(REDRIVEN_HEADER, 0)
    text = _text(value).strip()
    return int(text) if text.isdigit() else 0


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


def _resent(
    message: AbstractIncomingMessage, routing_key: str, gate: Gate, user: str
) -> aio_pika.Message:
    headers = {
        k: v
        for k, v in (message.headers or {}).items()
        if k not in _DEATH_HEADERS and not k.startswith(_DEATH_PREFIXES)
    }
    headers[SENDER_HEADER] = gate.sender(message.user_id, message.headers) or ""
    headers[ROUTING_KEY_HEADER] = routing_key
    headers[REDRIVEN_HEADER] = times_redriven(message.headers) + 1
    return aio_pika.Message(
        message.body,
        headers=headers,
        content_type=message.content_type,
        content_encoding=message.content_encoding,
        correlation_id=message.correlation_id,
        message_id=message.message_id,
        app_id=message.app_id,
        user_id=user,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


async def redrive(
    amqp_url: str,
    topology: Topology,
    *,
    limit: int | None = None,
    dry_run: bool = False,
    include_poison: bool = False,
    service_users: Sequence[str] = (),
) -> list[DeadLetter]:
    """Send back up to ``limit`` dead letters (all that are there now if None); say what became
    of each. ``service_users``: as for the services (``services.bus.auth.Gate``)."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        # Confirms and mandatory publishing, where a returned message raises: a message is
        # acked in the dead-letter queue only once its work queue has it.
        target = await connection.channel(publisher_confirms=True, on_return_raises=True)
        source = await connection.channel()
        try:
            queue = await source.declare_queue(topology.dead_letter_queue.name, passive=True)
        except ChannelNotFoundEntity:
            raise RedriveError(f"no dead-letter queue {topology.dead_letter_queue.name}") from None
        there = int(queue.declaration_result.message_count or 0)
        bound = there if limit is None else min(limit, there)
        # Sent back as this connection's user, naming each sender as the services judge it.
        signer = (Gate.for_broker(amqp_url, service_users), amqp_user(amqp_url))
        pass_ = _Pass(topology, target.default_exchange, dry_run, include_poison, signer)
        held: list[AbstractIncomingMessage] = []
        done: list[DeadLetter] = []
        try:
            while len(done) < bound:
                message = await queue.get(no_ack=False, fail=False)
                if message is None:
                    break
                result = await pass_.one(message)
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


class _Pass:
    def __init__(
        self,
        topology: Topology,
        exchange: AbstractExchange,
        dry_run: bool,
        include_poison: bool,
        signer: tuple[Gate, str],
    ) -> None:
        self._work_queues = {*(q.name for q in topology.engine_queues), topology.notices_queue.name}
        self._exchange = exchange
        self._dry_run = dry_run
        self._include_poison = include_poison
        self._sent: set[str] = set()  # message ids sent back (or that would be) in this pass
        self._gate, self._user = signer

    async def one(self, message: AbstractIncomingMessage) -> DeadLetter:
        routing_key = original_routing_key(message)
        poison = ERROR_HEADER in (message.headers or {})
        message_id = message.message_id or ""

        def outcome(action: str, redriven: bool = False) -> DeadLetter:
            return DeadLetter(
                message_id, routing_key, dead_letter_error(message), poison, action, redriven,
                times_redriven(message.headers),
            )  # fmt: skip

        queue = source_queue(message)
        if queue not in self._work_queues:
            return outcome("left: not dead-lettered from a work queue of this namespace")
        if poison and not self._include_poison:
            return outcome("left: poison, it would fail again (--all sends it back)")
        if message_id and message_id in self._sent:
            return outcome("left: a message with this id was sent back in this pass")
        if self._dry_run:
            self._sent.add(message_id)
            return outcome(f"would be sent back to {queue}")
        try:
            await self._exchange.publish(
                _resent(message, routing_key, self._gate, self._user), queue, mandatory=True
            )
        except DeliveryError as e:
            return outcome(f"left: {queue} did not take it ({e})")
        self._sent.add(message_id)
        return outcome(f"sent back to {queue}", redriven=True)
