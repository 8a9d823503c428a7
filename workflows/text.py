"""Strings PostgreSQL can store: no NUL, no lone UTF-16 surrogate.

PostgreSQL ``text`` and ``jsonb`` refuse U+0000 (even escaped in JSON) and a string with a lone
surrogate cannot be encoded as UTF-8 at all. Either would fail the transaction that writes the
message, on every delivery; refusing it when the message is parsed names the field instead.
"""

from __future__ import annotations

from typing import Any


def refusal(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None if it can."""
    if "\x00" in text:
        return f"contains NUL (U+0000) at index {text.index(chr(0))}, which cannot be stored"
    for at, char in enumerate(text):
        if "\ud800" <= char <= "\udfff":
            return f"contains a lone surrogate (U+{ord(char):04X}) at index {at}, which is not text"
    return None


def printable_id(text: str) -> str:
    """An id of printable ASCII without spaces (``!`` to ``~``): no separator, no NUL, no space."""
    for at, char in enumerate(text):
        if not "!" <= char <= "~":
            raise ValueError(
                f"an id is printable ASCII without spaces ('!' to '~'); U+{ord(char):04X} at "
                f"index {at} is not: use letters, digits and punctuation such as - _ . :"
            )
    return text


def storable(text: str) -> str:
    reason = refusal(text)
    if reason is not None:
        raise ValueError(reason)
    return text


def first_unstorable(value: Any, path: str = "") -> str | None:
    """``"<path>: <why>"`` for the first string in a JSON value (keys included) that cannot be
    stored, or None."""
    if isinstance(value, str):
        reason = refusal(value)
        return f"{path or 'value'}: {reason}" if reason else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and (reason := refusal(key)) is not None:
                return f"{path or 'the object'} has a key {key!r} that {reason}"
            if (found := first_unstorable(item, where)) is not None:
                return found
    if isinstance(value, list | tuple):
        for n, item in enumerate(value):
            if (found := first_unstorable(item, f"{path}[{n}]")) is not None:
                return found
    return None


def storable_json(value: dict[str, Any]) -> dict[str, Any]:
    found = first_unstorable(value)
    if found is not None:
        raise ValueError(found)
    return value
