"""Is this process connected? PostgreSQL always; RabbitMQ when it runs bus services on it.

The HTTP API answers it at ``GET /api/v1/ready`` (200, or 503 naming what is down). Every
process — those without HTTP (``equityflow serve engine`` and the other bus services) above
all — keeps a ready file when ``EQUITYFLOW_READY_FILE`` is set: present, holding the check,
while connected; absent otherwise. For a container health check (``test -f``) or a test to
wait on.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from faststream.rabbit import RabbitBroker

log = logging.getLogger(__name__)

CHECK_TIMEOUT = 2.0


@dataclass(frozen=True)
class Readiness:
    pool: asyncpg.Pool
    broker: RabbitBroker | None = None  # a real RabbitMQ this process uses, if any

    async def check(self) -> dict[str, bool]:
        """Each connection this process needs, and whether it answers now."""
        status = {"postgresql": await self._postgresql()}
        if self.broker is not None:
            status["rabbitmq"] = await self._rabbitmq(self.broker)
        return status

    async def _postgresql(self) -> bool:
        try:
            async with asyncio.timeout(CHECK_TIMEOUT):
                return bool(await self.pool.fetchval("SELECT 1") == 1)
        except Exception:
            return False

    @staticmethod
    async def _rabbitmq(broker: RabbitBroker) -> bool:
        try:
            return bool(await broker.ping(timeout=CHECK_TIMEOUT))
        except Exception:
            return False


async def keep_ready_file(readiness: Readiness, path: Path, interval: float = 1.0) -> None:
    """Until cancelled: ``path`` exists exactly while every connection answers."""
    was: dict[str, bool] | None = None
    try:
        while True:
            status = await readiness.check()
            if status != was:
                ready = all(status.values())
                _mark(path, status if ready else None)
                log.log(
                    logging.INFO if ready else logging.WARNING,
                    "%s: %s", "ready" if ready else "not ready", status,
                )  # fmt: skip
                was = status
            await asyncio.sleep(interval)
    finally:
        _mark(path, None)


def _mark(path: Path, status: dict[str, bool] | None) -> None:
    """A few bytes on a local disk: written in place, not worth a thread."""
    with contextlib.suppress(OSError):
        if status is None:
            path.unlink(missing_ok=True)
        else:
            path.write_text(json.dumps(status) + "\n")
