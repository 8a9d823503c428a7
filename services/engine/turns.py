"""Turns: the requests for one workflow applied one at a time, in the order they arrived.

The HTTP path's ordering (``services.api``): the engine serialises concurrent messages of one
workflow with its lock, in whatever order they reach the lock; within one API process, a turn
per workflow makes that order the order the requests arrived in.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass
class _Turns:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    holders: int = 0  # the request being handled and those waiting behind it


class InArrivalOrder:
    """One request per key at a time, in the order they arrived; other keys in parallel.

    A key's entry lives only while a request of that key is being handled or waiting, so memory
    stays bounded by the requests in flight. ``asyncio.Lock`` wakes its waiters first in,
    first out, and a request registers (synchronously) when it asks for its turn.
    """

    def __init__(self) -> None:
        self._turns: dict[Hashable, _Turns] = {}

    def __len__(self) -> int:
        return len(self._turns)

    @asynccontextmanager
    async def turn(self, key: Hashable | None) -> AsyncIterator[None]:
        if key is None:  # nothing to order by
            yield
            return
        turns = self._turns.get(key)
        if turns is None:
            turns = self._turns[key] = _Turns()
        turns.holders += 1
        try:
            async with turns.lock:
                yield
        finally:
            turns.holders -= 1
            if turns.holders == 0:
                del self._turns[key]
