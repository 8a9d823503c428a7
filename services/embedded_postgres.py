"""The embedded default: a real PostgreSQL from the ``pgserver`` wheel, in a local data folder.

Used by ``equityflow up`` and ``equityflow demo`` when ``DATABASE_URL`` is not set, so the service
runs on a machine with nothing installed. It is a real server (the same SQL, locks and
``SKIP LOCKED`` as production), kept in ``<data_dir>/postgres`` between runs.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from pathlib import Path


def _start(folder: Path) -> str:
    # Imported here: only the embedded mode needs it. Its start-up chatter is not ours to log.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        import pgserver

        folder = folder.resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        server = pgserver.get_server(folder, cleanup_mode="stop")
        return str(server.get_uri())


async def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or reuse) the embedded server and return its connection URL."""
    return await asyncio.to_thread(_start, data_dir / "postgres")
