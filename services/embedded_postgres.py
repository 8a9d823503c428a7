"""The embedded default: a real PostgreSQL from the ``pgserver`` wheel, in a local data folder.

Used by ``equityflow up`` and ``equityflow demo`` when ``DATABASE_URL`` is not set, so the service
runs on a machine with nothing installed. It is a real server (the same SQL, locks and
``SKIP LOCKED`` as production), kept in ``<data_dir>/postgres`` between runs.
"""

from __future__ import annotations

import asyncio
import atexit
import logging
import warnings
from pathlib import Path
from typing import Any

# The servers this process started (or joined), by data folder, to stop when it is done.
_SERVERS: dict[Path, Any] = {}


def _start(folder: Path) -> str:
    # Imported here: only the embedded mode needs it. Its start-up chatter is not ours to log.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

        folder = folder.resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(folder, cleanup_mode="stop")
        _SERVERS[folder] = server
        return str(server.get_uri())


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
    return await asyncio.to_thread(_start, data_dir / "postgres")


async def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop the embedded server, if this process started or joined it and is its last user."""
    await asyncio.to_thread(_stop, data_dir / "postgres")
