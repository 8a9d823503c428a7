"""Reaching PostgreSQL and RabbitMQ: wait, with back-off, until they answer.

A service started before the database or the broker (a host reboot, ``docker compose up``, a
broker restart during a deploy) waits for them instead of exiting: each attempt that fails
because the server is not there yet is logged with the next wait, and the waits double up to
``MOST``. A refusal that waiting cannot cure — wrong password, unknown database or virtual
host — is raised at once. SIGTERM during the wait stops the process (nothing is held yet).

After a loss, the connections recover on their own: RabbitMQ's is a robust aio-pika connection
that reconnects and restores its consumers, and the PostgreSQL pool replaces a broken
connection on the next acquire; meanwhile failed work is retried (``services.bus.consumers``,
``services.bus.polling``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TypeVar

import asyncpg
from aiormq.exceptions import AMQPConnectionError, ProbableAuthenticationError

log = logging.getLogger(__name__)

T = TypeVar("T")
FIRST = 0.5
MOST = 10.0


def postgres_unreachable(error: BaseException) -> bool:
    """PostgreSQL is not there (yet): refused, timed out, starting up, shutting down, full."""
    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.CannotConnectNowError
        | asyncpg.PostgresConnectionError
        | asyncpg.TooManyConnectionsError
        | asyncpg.ConnectionDoesNotExistError,
    ) and not isinstance(error, asyncpg.InvalidAuthorizationSpecificationError)


def rabbitmq_unreachable(error: BaseException) -> bool:
    """RabbitMQ is not there (yet); a refused login is not cured by waiting."""
    return isinstance(error, AMQPConnectionError | OSError | TimeoutError) and not isinstance(
        error, ProbableAuthenticationError
    )


async def until_connected(
    what: str,
    connect: Callable[[], Awaitable[T]],
    unreachable: Callable[[BaseException], bool],
    *,
    first: float = FIRST,
    most: float = MOST,
) -> T:
    """``connect()``, attempted again after each failure ``unreachable`` says may pass."""
    delay, attempts = first, 0
    while True:
        try:
            result = await connect()
        except Exception as error:
            if not unreachable(error):
                raise
            attempts += 1
            log.warning(
                "%s is unreachable (%s: %s); retrying in %.1fs",
                what, type(error).__name__, error, delay,
            )  # fmt: skip
        else:
            if attempts:
                log.info("%s is reachable after %d failed attempts", what, attempts)
            return result
        await asyncio.sleep(delay)
        delay = min(delay * 2, most)
