"""Publishing to the bus: through RabbitMQ with publisher confirms, or in memory.

``BrokerPublisher.publish`` returns only once RabbitMQ has confirmed the message: it is on disk
in a quorum queue. A negative confirm raises, and so does a message returned because no queue
is bound to receive it (``services.bus.runner.build_broker``): the relay and the deadlines
service mark a row done only after a publish returns, inside the transaction that claimed it.

``InMemoryPublisher`` serves ``equityflow up`` without RabbitMQ. FastStream's in-memory broker
runs the consuming handler inside the publish call; the relay and the deadlines service publish
while holding row locks that the handler's own transaction may need (the engine updates the
timer it fires), so messages are handed over through a queue and delivered by a task of their
own, in order, after the publisher's transaction has moved on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from aio_pika import RobustChannel
from aiormq.abc import AbstractChannel
from faststream.exceptions import SubscriberNotFound
from faststream.rabbit import RabbitBroker, RabbitExchange
from pamqp.commands import Basic

from services.bus.topology import DELIVERY_LIMIT

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/json"
PERSISTENT = 2  # AMQP delivery mode: written to disk (in a quorum queue, to its log)


class Publisher(Protocol):
    async def publish(
        self,
        body: bytes,
        *,
        exchange: RabbitExchange,
        routing_key: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> None: ...


class BrokerPublisher:
    """Persistent messages with publisher confirms, through a connected ``RabbitBroker``.

    Every message carries ``user_id`` = the RabbitMQ user the broker connected as, which
    RabbitMQ validates: that is how consumers know a service, not an integration, sent it.

    A message goes straight onto the broker's publishing channel (publisher confirms, returned
    messages raise: ``services.bus.runner.build_broker``) as one ``basic.publish``, with the
    properties FastStream would give it (the broker's ``app_id``, ``correlation_id`` = the
    message id, persistent, JSON) except a timestamp, which nothing reads. FastStream's publish
    builds a command, runs the middlewares, a message object and its properties for every
    message: the burst of due timers spent about a third of the deadlines service's time there.
    """

    def __init__(
        self, broker: RabbitBroker, *, user_id: str | None = None, confirm_timeout: float = 30.0
    ) -> None:
        self._broker = broker
        self._user_id = user_id
        self._timeout = confirm_timeout
        self._app_id: str | None = broker.config.app_id

    async def publish(
        self,
        body: bytes,
        *,
        exchange: RabbitExchange,
        routing_key: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        channel = await self._channel()
        # Raises DeliveryError on a nack, PublishError (one) when RabbitMQ returns it unrouted.
        await channel.basic_publish(
            body,
            exchange=exchange.name,
            routing_key=routing_key,
            properties=Basic.Properties(
                content_type=CONTENT_TYPE,
                delivery_mode=PERSISTENT,
                headers=dict(headers or {}),
                message_id=message_id,
                correlation_id=message_id,
                user_id=self._user_id,
                app_id=self._app_id,
            ),
            mandatory=True,
            timeout=self._timeout,
        )

    async def _channel(self) -> AbstractChannel:
        """The broker's publishing channel as it is now (reopened after a reconnection)."""
        channel: RobustChannel = await self._broker.config.channel_manager.get_channel()
        return await channel.get_underlay_channel()


@dataclass(frozen=True)
class _Envelope:
    body: bytes
    exchange: RabbitExchange
    routing_key: str
    message_id: str
    headers: dict[str, Any] = field(default_factory=dict)


class InMemoryPublisher:
    """Delivers through FastStream's in-memory broker, one message at a time, off the caller's task.

    A handler that raises is retried with back-off, like a nack with requeue on RabbitMQ, up to
    the same delivery limit; then the message is logged as dead-lettered. A message nothing
    subscribes to is dropped, as RabbitMQ drops an unroutable message.
    """

    def __init__(self, broker: RabbitBroker, *, retry_delay: float = 0.2) -> None:
        self._broker = broker
        self._retry_delay = retry_delay
        self._queue: asyncio.Queue[_Envelope] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def publish(
        self,
        body: bytes,
        *,
        exchange: RabbitExchange,
        routing_key: str,
        message_id: str,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self._queue.put_nowait(
            _Envelope(body, exchange, routing_key, message_id, dict(headers or {}))
        )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._deliver_forever(), name="in-memory-bus")

    async def stop(self, grace: float = 10.0) -> None:
        """Deliver what is queued (for up to ``grace`` seconds), then stop.

        The relay and the deadlines service have already marked these messages sent, so draining
        them is the polite path; a timer dropped here is not lost (the deadlines service fires
        again every timer left fired and unapplied when it next starts), but an event is.
        """
        if self._task is not None:
            try:
                async with asyncio.timeout(grace):
                    await self._queue.join()
            except TimeoutError:
                log.error("stopping with %d undelivered in-memory messages", self._queue.qsize())
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def drain(self) -> None:
        """Wait until every message published so far (and what it caused) is delivered."""
        await self._queue.join()

    async def _deliver_forever(self) -> None:
        while True:
            envelope = await self._queue.get()
            try:
                await self._deliver(envelope)
            finally:
                self._queue.task_done()

    async def _deliver(self, e: _Envelope) -> None:
        for attempt in range(DELIVERY_LIMIT):
            try:
                await self._broker.publish(
                    e.body,
                    exchange=e.exchange,
                    routing_key=e.routing_key,
                    message_id=e.message_id,
                    correlation_id=e.message_id,
                    headers=e.headers,
                    content_type=CONTENT_TYPE,
                    persist=True,
                )
                return
            except SubscriberNotFound:
                log.debug("no subscriber for %s %s; dropped", e.exchange.name, e.routing_key)
                return
            except Exception:
                log.exception("delivery of %s failed (attempt %d)", e.message_id, attempt + 1)
                await asyncio.sleep(min(self._retry_delay * 2**attempt, 30.0))
        log.error(
            "dead-lettered %s on %s %s after %d attempts: %r",
            e.message_id, e.exchange.name, e.routing_key, DELIVERY_LIMIT, e.body[:2000],
        )  # fmt: skip
