"""Watching the bus from outside: tap an exchange, or take messages off a queue.

For operators (what is in the dead-letter queue, and why?) and for tests that must see what
really went over RabbitMQ.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage

T = TypeVar("T")


class Tap:
    """Every message routed to an exchange (by a binding key) since the tap opened."""

    def __init__(self, channel: AbstractChannel, queue: str) -> None:
        self.messages: list[AbstractIncomingMessage] = []
        self._arrived = asyncio.Event()
        self._channel, self._queue = channel, queue
        self._markers: set[str] = set()

    async def _receive(self, message: AbstractIncomingMessage) -> None:
        if message.message_id in self._markers:
            self._markers.discard(message.message_id)
        else:
            self.messages.append(message)
        self._arrived.set()

    async def caught_up(self, within: float = 10.0) -> list[AbstractIncomingMessage]:
        """Every message routed to the tap before this call; ``TimeoutError`` after ``within``.

        A marker is sent to the tap's own queue and awaited: a queue delivers in order, so
        whatever a confirmed publish put there before has arrived by then. After a publisher
        has had its chance (its confirms awaited), this shows what it sent, with no guess at
        how long delivery takes.
        """
        marker = f"tap-marker-{uuid.uuid4()}"
        self._markers.add(marker)
        await self._channel.default_exchange.publish(
            aio_pika.Message(b"", message_id=marker), routing_key=self._queue
        )
        async with asyncio.timeout(within):
            while marker in self._markers:
                self._arrived.clear()
                await self._arrived.wait()
        return list(self.messages)

    async def wait_for(self, count: int, within: float = 10.0) -> list[AbstractIncomingMessage]:
        """The first ``count`` messages; ``TimeoutError`` if they do not arrive ``within`` s."""
        async with asyncio.timeout(within):
            while len(self.messages) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.messages[:count]


@asynccontextmanager
async def tap(amqp_url: str, exchange: str, routing_key: str = "#") -> AsyncIterator[Tap]:
    """An exclusive, auto-deleted queue bound to ``exchange``; gone when the block ends."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(exchange, routing_key=routing_key)
        watcher = Tap(channel, queue.name)
        await queue.consume(watcher._receive, no_ack=True)
        yield watcher
    finally:
        await connection.close()


async def take(
    amqp_url: str, queue: str, count: int, within: float = 10.0
) -> list[AbstractIncomingMessage]:
    """Take (and ack) up to ``count`` messages from ``queue``, waiting at most ``within`` s.

    A consumer, not ``basic.get``: a queue with a single active consumer (the engine's) allows
    no ``basic.get``.
    """
    taken: list[AbstractIncomingMessage] = []
    if count <= 0:
        return taken
    arrived: asyncio.Queue[AbstractIncomingMessage] = asyncio.Queue()
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        await channel.set_qos(prefetch_count=count)
        q = await channel.get_queue(queue, ensure=True)
        await q.consume(arrived.put)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while len(taken) < count and (left := deadline - loop.time()) > 0:
            try:
                message = await asyncio.wait_for(arrived.get(), left)
            except TimeoutError:
                break
            await message.ack()
            taken.append(message)
    finally:
        await connection.close()  # what was delivered and not taken goes back, in order
    return taken


async def waiting(amqp_url: str, queue: str) -> int:
    """How many messages wait in ``queue`` now (ready; not those delivered and unacked): what
    RabbitMQ holds, with no wait for a delivery that may be slow."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return int(declared.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def eventually(check: Callable[[], Awaitable[T]], within: float = 10.0) -> T:
    """Poll ``check`` until it returns something truthy; ``TimeoutError`` after ``within`` s."""
    async with asyncio.timeout(within):
        while True:
            if result := await check():
                return result
            await asyncio.sleep(0.05)
