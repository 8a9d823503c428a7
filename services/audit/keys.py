"""The Ed25519 key that signs checkpoints, and the public key that verifies them.

The private key lives outside the database (a file, or the environment of the process that
takes checkpoints): whoever controls the database can rewrite rows, but cannot sign a
checkpoint. ``verify`` needs only the public key.
"""

from __future__ import annotations

import base64
import hashlib
import os
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from services.audit import CheckpointKeyError
from services.settings import Settings


def generate_key_files(path: Path) -> Path:
    """Write a new private key to ``path`` (mode 0600) and its public key to ``path.pub``."""
    public_path = path.with_name(path.name + ".pub")
    for p in (path, public_path):
        if p.exists():
            raise CheckpointKeyError(f"{p} exists: a signing key is never overwritten")
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as f:
        f.write(private_pem)
    public_path.write_bytes(public_pem(key.public_key()))
    return public_path


def public_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _read(setting: str, path: Path | None, text: str | None) -> bytes | None:
    if text:
        return text.encode()
    if path is None:
        return None
    try:
        return path.read_bytes()
    except OSError as e:
        raise CheckpointKeyError(f"{setting}: cannot read {path} ({e.strerror})") from None


def private_key(settings: Settings) -> Ed25519PrivateKey | None:
    """The signing key from EQUITYFLOW_CHECKPOINT_KEY (PEM) or ..._KEY_FILE; None if neither."""
    secret = settings.checkpoint_key.get_secret_value() if settings.checkpoint_key else None
    pem = _read("EQUITYFLOW_CHECKPOINT_KEY_FILE", settings.checkpoint_key_file, secret)
    if pem is None:
        return None
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as e:
        raise CheckpointKeyError(f"the checkpoint key is not a PEM private key: {e}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointKeyError("the checkpoint key is not an Ed25519 key")
    return key


def public_key(settings: Settings) -> Ed25519PublicKey | None:
    """The verifying key: EQUITYFLOW_CHECKPOINT_PUBLIC_KEY(_FILE), else the signing key's."""
    pem = _read(
        "EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE",
        settings.checkpoint_public_key_file,
        settings.checkpoint_public_key,
    )
    if pem is None:
        signing = private_key(settings)
        return signing.public_key() if signing else None
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as e:
        raise CheckpointKeyError(f"the checkpoint public key is not PEM: {e}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointKeyError("the checkpoint public key is not an Ed25519 key")
    return key


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 (hex) of the raw public key: names the key a checkpoint was signed with."""
    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def sign(key: Ed25519PrivateKey, text: str) -> str:
    return base64.b64encode(key.sign(text.encode())).decode()


def signature_holds(key: Ed25519PublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), text.encode())
    except (InvalidSignature, ValueError):
        return False
    return True
