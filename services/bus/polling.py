"""The polling loop shared by the relay and the deadlines service."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

#: Called after each pass that completed (not one that failed).
OnPass = Callable[[], None]

log = logging.getLogger(__name__)


async def poll(
    work: Callable[[], Awaitable[int]],
    batch_size: int,
    poll_interval: float,
    name: str,
    on_pass: OnPass | None = None,
) -> None:
    """Run ``work`` (one batch; returns how many items it did) until cancelled.

    A full batch means more is waiting: go again at once. Otherwise sleep, doubling the sleep
    while there is nothing to do (up to 4 poll intervals), so idle replicas stay quiet. A failed
    pass (database or broker unreachable) is logged and retried after the same back-off.

    ``on_pass``, if given, is called after each pass that completed: a pass that began after
    some change has seen it, so a caller (a test) can wait for two more passes and know the
    loop has had its chance to act on the change, rather than waiting a fixed time.
    """
    delay = poll_interval
    while True:
        try:
            done = await work()
        except Exception:
            log.exception("%s pass failed; retrying in %.1fs", name, delay)
            done = 0
        else:
            if on_pass is not None:
                on_pass()
        if done >= batch_size:
            delay = poll_interval
            continue
        await asyncio.sleep(delay)
        delay = poll_interval if done else min(delay * 2, 4 * poll_interval)
