"""Canonical JSON: one text for one value, however often it goes through PostgreSQL.

JSONB keeps numbers as decimals: ``1e100`` comes back as a 101-digit integer and ``2.0`` may
come back as ``2``. So a float with an integral value is written as that integer, keys are
sorted and no whitespace is added; what is hashed is then exactly what is read back.
NaN and infinities are not JSON and are refused (``ValueError``).
"""

from __future__ import annotations

import json
import math
from decimal import Decimal
from typing import Any

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


# One encoder, made once: ``json.dumps`` with options builds a new one on every call.
_ENCODER = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)


def dump_json(value: Any) -> str:
    """Compact JSON text of a value that is already normalised (storage, not hashing)."""
    return _ENCODER.encode(value)


def canonical_json(value: Any) -> str:
    return dump_json(_normalise(value))


def normalised(value: Any) -> Any:
    """The value as it will read back from a JSONB column."""
    return json.loads(canonical_json(value))


def normalise(value: Any) -> Any:
    """``normalised`` without the round trip through text, for a value that already holds
    only JSON types (dicts, lists, tuples, strings, numbers, booleans, None)."""
    return _normalise(value)
