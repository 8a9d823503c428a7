"""``python -m services.healthcheck [SERVICE]``: the container image's HEALTHCHECK.

- ``api``: ``GET /api/v1/health`` on the API's own port answers 200, so the API serves requests
  and its PostgreSQL answers.
- ``engine``, ``deadlines``, ``notices``, ``relay``: they have no port to ask. The check is that
  what they work with answers: PostgreSQL at ``DATABASE_URL`` and RabbitMQ at ``AMQP_URL``. It
  says the service can work, not that its own loop is turning.

Without SERVICE, it is the one the container runs, read from its main process's command line
(``equityflow serve engine``); ``equityflow up`` serves the API. Exit 0 when healthy, 1 when not,
with one line on stderr saying what did not answer (Docker keeps it in ``docker inspect``).
"""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from pathlib import Path

import aio_pika
import asyncpg
from pydantic import ValidationError

from services.settings import Settings

TIMEOUT = 4.0  # under the image's HEALTHCHECK --timeout


def service_of(command_line: list[str]) -> str | None:
    """The service named by ``equityflow serve SERVICE`` (``up``: the API), if any."""
    if "serve" in command_line[:-1]:
        return command_line[command_line.index("serve") + 1]
    return "api" if "up" in command_line else None


def _main_process_command_line() -> list[str]:
    try:
        raw = Path("/proc/1/cmdline").read_bytes()
    except OSError:
        return []
    return [part.decode(errors="replace") for part in raw.split(b"\0") if part]


def _check_api(host: str, port: int) -> None:
    host = "127.0.0.1" if host in {"0.0.0.0", "::", ""} else host
    url = f"http://{host}:{port}/api/v1/health"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT) as answer:
            answer.read()
    except OSError as e:  # URLError, and HTTPError for an error status, are OSErrors
        raise RuntimeError(f"the API does not answer at {url}: {e}") from None


async def _check_dependencies(database_url: str | None, amqp_url: str | None) -> None:
    if not database_url or not amqp_url:
        raise RuntimeError("DATABASE_URL and AMQP_URL must both be set for a lone service")
    try:
        connection = await asyncpg.connect(database_url, timeout=TIMEOUT)
        await connection.fetchval("SELECT 1")
        await connection.close()
    except (TimeoutError, OSError, asyncpg.PostgresError) as e:
        raise RuntimeError(f"PostgreSQL does not answer at DATABASE_URL: {e}") from None
    try:
        broker = await aio_pika.connect(amqp_url, timeout=TIMEOUT)
        await broker.close()
    except Exception as e:  # aio-pika raises several unrelated types on refusal
        raise RuntimeError(f"RabbitMQ does not answer at AMQP_URL: {e}") from None


def check(service: str | None) -> None:
    """Raises RuntimeError saying what does not answer."""
    try:
        settings = Settings()
    except ValidationError as e:
        raise RuntimeError(f"the settings are invalid: {e.errors()[0]['msg']}") from None
    if service == "api":
        _check_api(settings.http_host, settings.http_port)
    else:
        asyncio.run(_check_dependencies(settings.database_url, settings.amqp_url))


def main(argv: list[str]) -> int:
    service = argv[0] if argv else service_of(_main_process_command_line())
    try:
        check(service)
    except RuntimeError as e:
        print(f"unhealthy ({service or 'dependencies'}): {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
