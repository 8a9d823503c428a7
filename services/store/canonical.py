"""Canonical JSON: one text for one value, however often it goes through PostgreSQL.

JSONB keeps numbers as decimals: ``1e100`` comes back as a 101-digit integer and ``2.0`` may
come back as ``2``. So a float with an integral value is written as that integer, keys are
sorted and no whitespace is added; what is hashed is then exactly what is read back.
NaN and infinities are not JSON and are refused (``ValueError``).

The text is the standard library's (``json``, sorted keys, compact, UTF-8 unescaped). A value
made only of dicts with ASCII string keys, lists, tuples, strings, integers, booleans and None (the
engine's data, events and messages, nearly always) is encoded by orjson instead, about ten
times faster, to the same text: orjson escapes strings and sorts keys exactly as ``json``
does (a unit test compares them over every code point). Floats never take that path, since
the two libraries write exponents differently (``1e-07`` and ``1e-7``), nor do integers past
64 bits, which orjson does not encode.

A value already made of JSON types only needs no copy: ``json_text`` encodes it as it is and
then checks, without copying, that orjson met nothing the canonical rule writes otherwise.
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

import orjson

_PLAIN = frozenset({str, int, bool, type(None)})


def _normalise(value: Any) -> Any:
    if type(value) in _PLAIN:  # most values: nothing to do, and the cheapest test first
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a JSON number")
        # Via the decimal text, as PostgreSQL reads it: int(1e100) is not 10**100.
        return int(Decimal(repr(value))) if value.is_integer() else value
    if isinstance(value, dict):
        return {str(k): _normalise(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_normalise(v) for v in value]
    return value


class NotPlain(Exception):
    """A value holding something other than dicts with string keys, lists, tuples, strings,
    integers, booleans and None (a float, a date, an enum...): it takes the general path."""


def plain(value: Any) -> Any:
    """A copy of a plain value as it reads back from JSONB (tuples as lists), or ``NotPlain``.

    For a plain value this equals ``normalise(value)`` and ``to_jsonable_python``'s result
    normalised: only exact types are plain (a ``str`` subclass such as an enum is not), and
    only ASCII keys (``to_jsonable_python`` refuses a key holding a lone surrogate)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) is not str or not key.isascii():  # pydantic refuses some keys
                raise NotPlain
            out[key] = item if type(item) in _PLAIN else plain(item)
        return out
    if kind is list or kind is tuple:
        return [item if type(item) in _PLAIN else plain(item) for item in value]
    raise NotPlain


# One encoder, made once: ``json.dumps`` with options builds a new one on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def dump_json(value: Any) -> str:
    """Compact JSON text of a value that is already normalised (storage, not hashing)."""
    return _ENCODER.encode(value)


def plain_json(value: Any) -> str:
    """``dump_json`` of a value ``plain`` returned (no floats): orjson's text, the same."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # an integer past 64 bits, a lone surrogate, nesting past 254 levels
        return _ENCODER.encode(value)


# orjson hands these to the general path (by refusing them) rather than encoding them itself:
# dates and times (their text is pydantic's, not orjson's), dataclasses, and subclasses of
# str, int, dict and list. Keys must then be exact strings, integers within 64 bits, and
# strings free of lone surrogates.
_ONLY_JSON = (
    orjson.OPT_SORT_KEYS
    | orjson.OPT_PASSTHROUGH_DATETIME
    | orjson.OPT_PASSTHROUGH_DATACLASS
    | orjson.OPT_PASSTHROUGH_SUBCLASS
)


def _json_types_only(value: Any) -> bool:
    """Only dicts, lists, strings, integers, booleans and None, of those exact types: no
    float, tuple, enum or UUID, which orjson encodes but a copy (or the canonical rule) would
    change. A walk that copies nothing: about half the cost of ``plain``."""
    kind = type(value)
    if kind is dict:
        items = value.values()
    elif kind is list:
        items = value
    else:
        return kind in _PLAIN
    for item in items:
        kind = type(item)
        if kind in _PLAIN:
            continue
        if (kind is dict or kind is list) and _json_types_only(item):
            continue
        return False
    return True


def json_text(value: Any) -> str | None:
    """``canonical_json(value)`` for a value made of JSON types only (exact dicts with string
    keys, lists, strings, integers within 64 bits, booleans, None), which is then already
    normalised and can be kept as it is; None for any other value.

    Encoded first, checked after: orjson refuses what the check does not look at (keys that
    are not strings, large integers, lone surrogates, subclasses), and the check refuses what
    orjson encodes its own way (floats, NaN as ``null``, tuples, enums, UUIDs). Unlike
    ``plain``, keys need not be ASCII: one without a lone surrogate has the same text and sorts
    alike (by code point) either way, and orjson refuses one with."""
    try:
        text = orjson.dumps(value, option=_ONLY_JSON)
    except TypeError:
        return None
    return text.decode() if _json_types_only(value) else None


def canonical_json(value: Any) -> str:
    text = json_text(value)
    if text is not None:
        return text
    try:
        return plain_json(plain(value))
    except NotPlain:
        return dump_json(_normalise(value))


def normalised(value: Any) -> Any:
    """The value as it will read back from a JSONB column."""
    return json.loads(canonical_json(value))


def normalise(value: Any) -> Any:
    """``normalised`` without the round trip through text, for a value that already holds
    only JSON types (dicts, lists, tuples, strings, numbers, booleans, None)."""
    return _normalise(value)
