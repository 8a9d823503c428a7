"""How many messages wait in the engine queues, not yet delivered: what the deadlines service asks
before it fires a timer again (``services.deadlines``).

The count is RabbitMQ's answer to a passive ``queue.declare``: the queue's *ready* messages
(those delivered and not yet acknowledged are not counted). It is asked on a connection of its
own, never the publishing one: a channel error (the queue deleted) closes only this channel.
``None`` when RabbitMQ cannot say (unreachable, the queue gone): the caller must then act as if
nothing were queued.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractConnection

log = logging.getLogger(__name__)

#: Ready messages in the engine queues, or ``None`` when unknown.
Backlog = Callable[[], Awaitable[int | None]]


class QueueBacklog:
    """``await backlog()``: the ready messages of ``queues`` together on ``amqp_url``, or
    ``None``."""

    def __init__(self, amqp_url: str, *queues: str, timeout: float = 10.0) -> None:
        self._url, self._queues, self._timeout = amqp_url, queues, timeout
        self._connection: AbstractConnection | None = None
        self._channel: AbstractChannel | None = None

    async def __call__(self) -> int | None:
        ready = 0
        for queue in self._queues:
            try:
                channel = await self._open()
                declared = await channel.declare_queue(queue, passive=True)
            except Exception as error:  # unreachable, or the queue is gone: say so, reconnect
                log.warning("cannot read the backlog of %s: %s", queue, error)
                await self.close()
                return None
            ready += int(declared.declaration_result.message_count or 0)
        return ready

    async def _open(self) -> AbstractChannel:
        if self._channel is None or self._channel.is_closed:
            await self.close()
            self._connection = await aio_pika.connect(self._url, timeout=self._timeout)
            self._channel = await self._connection.channel(publisher_confirms=False)
        return self._channel

    async def close(self) -> None:
        connection, self._connection, self._channel = self._connection, None, None
        if connection is not None and not connection.is_closed:
            try:
                await connection.close()
            except Exception:  # closing a broken connection: nothing more to do
                log.debug("closing the backlog connection failed", exc_info=True)
