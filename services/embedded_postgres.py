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
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class EmbeddedPostgresMissing(OSError):
    """``DATABASE_URL`` is unset and the embedded PostgreSQL is not installed."""

    def __init__(self) -> None:
        super().__init__(
            "DATABASE_URL is not set, and the embedded PostgreSQL used without it (the pgserver "
            "package) is not installed: set DATABASE_URL to your PostgreSQL, or install it with "
            "`uv sync` (its default groups include it) or `pip install pgserver`"
        )


def _server(folder: Path, cleanup_mode: str) -> Any:
    # Its start-up chatter is not ours to log.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        try:
            # Imported here, the one import inside a function in services/ (the rule is
            # tests/unit/test_module_state.py): pgserver is an optional dependency, absent from
            # the container image, and only the embedded mode needs it.
            import pgserver
        except ImportError:
            raise EmbeddedPostgresMissing() from None

        folder = folder.resolve()
        folder.parent.mkdir(parents=True, exist_ok=True)
        return pgserver.get_server(folder, cleanup_mode=cleanup_mode)


def _stop(server: Any) -> None:
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


@dataclass(frozen=True)
class EmbeddedPostgres:
    """A server this process started (or joined): its URL, and how to let go of it."""

    url: str
    server: Any

    async def stop(self) -> None:
        """Stop the server, unless another process still uses it."""
        await asyncio.to_thread(_stop, self.server)


async def start_embedded_postgres(data_dir: Path) -> EmbeddedPostgres:
    """Start (or join) the embedded server in ``<data_dir>/postgres``."""
    folder = (data_dir / "postgres").resolve()
    server = await asyncio.to_thread(_server, folder, "stop")
    return EmbeddedPostgres(str(server.get_uri()), server)


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
