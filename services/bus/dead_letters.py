"""Sending a delivery to the dead-letter queue with its reason, and waiting before a retry.

Shared by the consumers (``services.bus.consumers``) and the engine's timer bundles
(``services.bus.timer_bundles``), which dead-letters a bundle whole when a timer of it cannot be
dead-lettered alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from services.bus.auth import SENDER_HEADER
from services.bus.poison import dead_letter
from services.bus.publisher import Publisher
from services.bus.topology import Topology
from services.engine.outcome import Outcome

log = logging.getLogger(__name__)

MAX_RETRY_DELAY = 30.0


def unrecorded_reason(outcome: Outcome) -> str:
    """Why a message whose outcome the engine recorded nowhere (its company does not exist) is
    dead-lettered: the rule that refused it and its reason."""
    refusal = outcome.refusal or {}
    return f"{refusal.get('rule')}: {refusal.get('reason')}"


def delivery_count(message: Any) -> int:
    # Quorum queues count earlier deliveries of a requeued message in this header.
    count = message.headers.get("x-delivery-count", 0)
    return int(count) if isinstance(count, int | str) and str(count).isdigit() else 0


async def back_off(delay: float, running: Callable[[], bool]) -> None:
    """Wait ``delay``, but no longer than the subscriber runs: a service told to stop (SIGTERM)
    hands back the messages it is backing off at once, instead of sleeping on them while the
    broker waits for its handlers."""
    loop = asyncio.get_running_loop()
    until = loop.time() + delay
    # FastStream signals a stop only by this flag (no event to wait on): poll it.
    while running() and (left := until - loop.time()) > 0:  # noqa: ASYNC110
        await asyncio.sleep(min(left, 0.1))


@dataclass
class DeadLetter:
    """Dead-letter one delivery with its reason, then ack it; nack it if that fails."""

    publisher: Publisher
    topology: Topology
    queue_name: str
    body: bytes
    raw: Any
    sender: str | None
    retry_delay: float
    running: Callable[[], bool]

    async def send(self, message: Any, reason: str) -> None:
        log.warning("dead-lettering %s from %s: %s", self.raw.message_id, self.queue_name, reason)
        try:
            await dead_letter(
                self.publisher,
                self.topology,
                body=self.body,
                routing_key=self.raw.routing_key or "",
                message_id=self.raw.message_id,
                source_queue=self.queue_name,
                reason=reason,
                # Republished by this service: whom it came from travels in a header.
                headers={**self.raw.headers, SENDER_HEADER: self.sender or ""},
            )
        except Exception:
            # Nothing bound to receive it, say: never dropped; RabbitMQ's delivery limit
            # parks it if this goes on. (It has no effect: its place in the queue is no matter.)
            delay = min(self.retry_delay * 2 ** delivery_count(message), MAX_RETRY_DELAY)
            log.exception("could not dead-letter %s; returning it in %.1fs", self.raw.message_id,
                          delay)  # fmt: skip
            await back_off(delay, self.running)
            await message.nack(requeue=True)
            return
        await message.ack()
