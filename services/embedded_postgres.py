"""The embedded default: a real PostgreSQL from the ``pgserver`` wheel, in a local data folder.

Used by ``equityflow up`` and ``equityflow demo`` when ``DATABASE_URL`` is not set, so the service
runs on a machine with nothing installed. It is a real server (the same SQL, locks and
``SKIP LOCKED`` as production), kept in ``<data_dir>/postgres`` between runs; the demo's is a
temporary one, deleted when it ends.

``pgserver`` is in the ``embedded`` dependency group, which ``uv sync`` installs by default and
the container image leaves out (it runs on the PostgreSQL that ``DATABASE_URL`` names).
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import shutil
import tempfile
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

# The servers this process started (or joined), by data folder, to stop when it is done.
_SERVERS: dict[Path, Any] = {}


class EmbeddedPostgresMissing(OSError):
    """``DATABASE_URL`` is unset and the embedded PostgreSQL is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "DATABASE_URL is not set, and the embedded PostgreSQL used without it (the pgserver "
            "package) is not installed: set DATABASE_URL to your PostgreSQL, or install it with "
            "`uv sync` (its default groups include it) or `pip install pgserver`"
        )


def _server(folder: Path, cleanup_mode: str) -> Any:
    # Imported here: only the embedded mode needs it. Its start-up chatter is not ours to log.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            import pgserver
        except ImportError:
            raise EmbeddedPostgresMissing() from None

        folder = folder.resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(folder, cleanup_mode=cleanup_mode)


def _stop(folder: Path) -> None:
    server = _SERVERS.pop(folder.resolve(), None)
    if server is None:
        return
    # pgserver would stop it in an exit handler, where a second Ctrl-C (or a signal sent to the
    # process group twice) interrupts it with a traceback; stopped here, while the service's
    # signal handlers still answer. If pg_ctl itself is interrupted, pgserver falls back to
    # terminating the server, and its error log is no news to the operator.
    pgserver_log = logging.getLogger("pgserver")
    level = pgserver_log.level
    pgserver_log.setLevel(logging.CRITICAL)
    try:
        server.cleanup()  # stops the server unless another process still uses it
    finally:
        pgserver_log.setLevel(level)
        atexit.unregister(server._cleanup)


async def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return its connection URL."""
    folder = (data_dir / "postgres").resolve()
    server = await asyncio.to_thread(_server, folder, "stop")
    _SERVERS[folder] = server
    return str(server.get_uri())


async def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the embedded server, if this process started or joined it and is its last user."""
    await asyncio.to_thread(_stop, data_dir / "postgres")


@asynccontextmanager
async def temporary_embedded_postgres() -> AsyncIterator[str]:
    """A server of its own in a temporary folder: stopped and deleted on exit, whatever happens."""
    folder = Path(tempfile.mkdtemp(prefix="equityflow-demo-"))
    try:
        server = await asyncio.to_thread(_server, folder / "postgres", "delete")
        try:
            yield str(server.get_uri())
        finally:
            await asyncio.to_thread(server.cleanup)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
