"""Every id equityflow derives (rather than draws at random) comes from ``derived_id``.

An id derived by joining its parts with a separator is ambiguous: company ``timer`` with message
id ``"acme\\x1f<timer id>"`` joined to the same string as company ``acme``'s timer message, so one
company could take the id of another's event and stop that company's deadline from ever firing
(the outbox refuses a second row with one message id). Here the parts are encoded without
ambiguity (each tagged with its type and prefixed with its length), so two different tuples of
parts never encode alike, whatever characters their strings hold; the id is a UUIDv5 (RFC 9562
§5.5) of that encoding, equal for two tuples only on a SHA-1 collision. The first part names what
the id is for (``"event"``, ``"notification"``...), so ids of different purposes never meet, and
every id of a company's data has the company among its parts.

Ids derived before this scheme (joined with U+001F) stay as they were stored: they are never
recomputed, except when a duplicate refused command looks up its first answer
(``services.engine.outcome``), which also tries the old derivation within the company.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

#: The namespace of every derived id (any fixed UUID; never change it: ids are stored).
NAMESPACE = uuid.UUID("0b7e5a39-3c2d-4f61-8a45-9e1d2c6b7f08")

Part = str | int


def encode_parts(parts: tuple[Part, ...]) -> bytes:
    """An injective encoding: a type tag, an 8-byte length, the bytes; part after part.

    Strings are UTF-8 with surrogates passed through, so every Python string encodes (and two
    different strings never encode alike); integers as signed decimal. ``bool`` is refused: it
    would otherwise encode like the integer it equals.
    """
    out = []
    for part in parts:
        kind = type(part)  # exact types first: the engine encodes a few per event it writes
        if kind is str:
            data = part.encode("utf-8", "surrogatepass")  # type: ignore[union-attr]
            out.append(b"s" + len(data).to_bytes(8, "big") + data)
        elif kind is int:
            data = str(part).encode("ascii")
            out.append(b"i" + len(data).to_bytes(8, "big") + data)
        else:
            out.append(_encode_subclass(part))
    return b"".join(out)


def _encode_subclass(part: object) -> bytes:
    """``encode_parts`` of a part whose type is not exactly ``str`` or ``int``."""
    if isinstance(part, bool) or not isinstance(part, str | int):
        raise TypeError(f"an id part is a str or an int, not {type(part).__name__}")
    tag, data = (
        (b"s", part.encode("utf-8", "surrogatepass"))
        if isinstance(part, str)
        else (b"i", str(part).encode("ascii"))
    )
    return tag + len(data).to_bytes(8, "big") + data


def derived_id(purpose: str, *parts: Part) -> str:
    """The id of ``purpose`` for ``parts``, as a UUID string (a UUIDv5 of ``encode_parts``)."""
    return _uuid5(hashlib.sha1(NAMESPACE.bytes + encode_parts((purpose, *parts))).digest())


def derived_ids(purpose: str, *parts: Part) -> Callable[[Part], str]:
    """``last → derived_id(purpose, *parts, last)``: for many ids that differ in their last
    part only (a message's events), the parts they share are encoded and hashed once."""
    shared = hashlib.sha1(NAMESPACE.bytes + encode_parts((purpose, *parts)))

    def of(last: Part) -> str:
        h = shared.copy()
        h.update(encode_parts((last,)))
        return _uuid5(h.digest())

    return of


def _uuid5(sha1: bytes) -> str:
    """``str(uuid.UUID(bytes=sha1[:16], version=5))``, without building the UUID object: the
    version nibble set to 5, the variant's two high bits to ``10`` (RFC 9562), in hex."""
    h = sha1[:16].hex()
    variant = "89ab"[int(h[16], 16) & 0x3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:]}"


def share_register_id(company_id: str) -> str:
    """The one share register of a company (docs/design.md, "The share register"): a workflow
    that records an issuance or a transfer addresses it by this id and never looks it up."""
    return derived_id("share_register", company_id)


#: The kinds kept once per company, each at the id derived from the company.
COMPANY_ONE = {"share_register": share_register_id}


def company_workflow_id(company_id: str, workflow_type: str) -> str:
    """The id of the company's one ``workflow_type`` (``workflows.kernel.Send.company_one``);
    ``ValueError`` for a kind the company does not keep once (a kind's bug)."""
    try:
        return COMPANY_ONE[workflow_type](company_id)
    except KeyError:
        raise ValueError(f"a company keeps no single {workflow_type} workflow") from None


def register_message_id(source_workflow_id: str, act: str) -> str:
    """The message id of a command another workflow sends the register for one of its acts
    (``act``: "certificate_issued", "closing"...): sent twice, it is applied once."""
    return derived_id("share_register_command", source_workflow_id, act)
