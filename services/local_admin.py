"""The local admin key of ``equityflow up`` on the embedded default.

A newcomer runs ``equityflow up`` and then the README's curl commands: on the first start an
operator key is created and written to ``<data dir>/admin-key`` (mode 0600, readable by its
owner only); its path is printed, the key itself never. Later starts reuse it, and a key file
whose key the database no longer knows (a wiped database) is replaced.
"""

from __future__ import annotations

import os
from pathlib import Path

import asyncpg

from services.auth.principals import authenticate, create_key

KEY_FILE = "admin-key"
LABEL = "local admin (equityflow up)"


async def ensure_local_admin_key(pool: asyncpg.Pool, data_dir: Path) -> tuple[Path, bool]:
    """The key file's path, and whether a new key was created."""
    path = data_dir / KEY_FILE
    if path.exists():
        known = await authenticate(pool, path.read_text().strip())
        if known is not None and known.operator:
            return path, False
    key = await create_key(pool, company_id=None, parties=[], scopes=["admin"], label=LABEL)
    _write_private(path, key.token + "\n")
    return path, True


def _write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that no other user can ever read it, even for an instant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)  # whatever the umask
        os.write(fd, text.encode())
    finally:
        os.close(fd)
    os.replace(partial, path)
