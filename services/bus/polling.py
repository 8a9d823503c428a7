"""The polling loop shared by the relay and the deadlines service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def poll(
    work: Callable[[], Awaitable[int]], batch_size: int, poll_interval: float, name: str
) -> None:
    """Run ``work`` (one batch; returns how many items it did) until cancelled.

    A full batch means more is waiting: go again at once. Otherwise sleep, doubling the sleep
    while there is nothing to do (up to 4 poll intervals), so idle replicas stay quiet. A failed
    pass (database or broker unreachable) is logged and retried after the same back-off.
    """
    delay = poll_interval
    while True:
        try:
            done = await work()
        except Exception:
            log.exception("%s pass failed; retrying in %.1fs", name, delay)
            done = 0
        if done >= batch_size:
            delay = poll_interval
            continue
        await asyncio.sleep(delay)
        delay = poll_interval if done else min(delay * 2, 4 * poll_interval)
