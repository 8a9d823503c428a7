"""API keys: ``efk_<key id>_<secret>``, shown once, stored as the SHA-256 of the secret.

The secret is 256 random bits, so a fast hash is the right one: there is nothing to brute-force
that a slow hash would protect. The key id, in the clear, finds the row; the secret's digest is
compared in constant time so a timing difference never tells how much of a guess was right.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

PREFIX = "efk"
_KEY = re.compile(r"^efk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


@dataclass(frozen=True)
class NewKey:
    key_id: str  # the principal id: "efk_<16 hex>", safe to show and to log
    secret: str  # the random part; only its digest is stored

    @property
    def token(self) -> str:
        """What the holder sends as ``Authorization: Bearer <token>``; shown once."""
        return f"{self.key_id}_{self.secret}"


def new_key() -> NewKey:
    return NewKey(f"{PREFIX}_{secrets.token_hex(8)}", secrets.token_urlsafe(32))


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def parse(token: str) -> tuple[str, str] | None:
    """The key id and secret of a well-formed token, else None."""
    match = _KEY.fullmatch(token)
    return (f"{PREFIX}_{match[1]}", match[2]) if match else None


def matches(secret: str, stored_digest: bytes) -> bool:
    return hmac.compare_digest(digest(secret), stored_digest)
