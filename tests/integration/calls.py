"""A callback that counts its calls, for a test to wait on what a service reports it has done."""

from __future__ import annotations

import asyncio


class Calls:
    """Pass it as a service's hook (``on_pass``, ``on_acked``); then wait for more calls."""

    def __init__(self) -> None:
        self.count = 0
        self._called = asyncio.Event()

    def __call__(self) -> None:
        self.count += 1
        self._called.set()

    async def reach(self, count: int, within: float = 30.0) -> None:
        """Until called ``count`` times in all."""
        async with asyncio.timeout(within):
            while self.count < count:
                self._called.clear()
                await self._called.wait()

    async def more(self, count: int = 2, within: float = 30.0) -> None:
        """Until called ``count`` more times. Two passes of a polling service: the second began
        after this call, so it saw whatever was set up before."""
        await self.reach(self.count + count, within)
