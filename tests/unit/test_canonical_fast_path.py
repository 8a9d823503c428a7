"""The engine's fast paths give what the general ones give: the same values, the same canonical
text (which is stored, hashed into the history chain and published), the same ids.

A plain value (dicts with ASCII string keys, lists, tuples, strings, integers, booleans, None) is
copied in one pass and encoded by orjson; anything else takes the general path. Here both are
compared with the general path on values drawn to be awkward: floats, integers past 64 bits,
enums, dates, non-string keys, control characters, astral characters and lone surrogates.
"""

from __future__ import annotations

import copy
import enum
import json
import math
import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic_core import to_jsonable_python

from services.engine.events import json_safe, json_safe_text
from services.ids import derived_id, derived_ids
from services.store.canonical import (
    _ENCODER,
    NotPlain,
    canonical_json,
    dump_json,
    json_text,
    normalise,
    plain,
)
from services.store.db import decode_json
from workflows.kit.data import copy_data

_SETTINGS = settings(deadline=None, max_examples=300)


class Colour(enum.StrEnum):
    RED = "red"


_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=6) | st.sampled_from(
    ["", "é", "\x00", "\x1f", "\u2028", "\U0001f600", '"\\', "\ud800"]
)
_LEAF = (
    _TEXT
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.booleans()
    | st.none()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e-07, 2.0, 1e100, -0.0, 1.5, Colour.RED, date(2026, 3, 2)])
    | st.just(datetime(2026, 3, 2, 17, tzinfo=UTC))
    | st.just(Decimal("12.50"))
)
_KEY = _TEXT | st.integers(min_value=-3, max_value=3)
_VALUE = st.recursive(
    _LEAF,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(_KEY, inner, max_size=4)
    ),
    max_leaves=20,
)
_PLAIN_VALUE = st.recursive(
    _TEXT | st.integers(min_value=-(2**70), max_value=2**70) | st.booleans() | st.none(),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(st.text(st.characters(max_codepoint=127), max_size=6), inner, max_size=4)
    ),
    max_leaves=20,
)


def _general_safe(value: Any) -> Any:
    """What the engine did for every value before the fast path."""
    return normalise(to_jsonable_python(value))


def _outcome(f: Any, value: Any) -> Any:
    try:
        return ("value", f(value))
    except (ValueError, TypeError) as e:  # not JSON: refused alike on both paths
        return ("refused", type(e))


@_SETTINGS
@given(_VALUE)
def test_json_safe_is_the_general_path_for_every_value(value: Any) -> None:
    assert _outcome(json_safe, value) == _outcome(_general_safe, value)
    general = _outcome(_general_safe, value)
    fast = _outcome(json_safe_text, value)
    if general[0] == "value":
        assert fast == ("value", (general[1], dump_json(general[1])))
    else:
        assert fast == general


@_SETTINGS
@given(_VALUE)
def test_canonical_json_is_the_general_encoding_for_every_value(value: Any) -> None:
    def general(v: Any) -> str:
        return dump_json(normalise(v))

    assert _outcome(canonical_json, value) == _outcome(general, value)


@_SETTINGS
@given(_PLAIN_VALUE)
def test_a_plain_value_takes_the_fast_path_to_the_same_text(value: Any) -> None:
    copied = plain(value)
    assert copied == normalise(value)
    assert canonical_json(value) == _ENCODER.encode(copied)


@_SETTINGS
@given(_VALUE)
def test_a_value_encoded_as_it_is_has_the_general_text_and_needs_no_copy(value: Any) -> None:
    """``json_text`` gives a text only for a value that already reads back as itself."""
    text = json_text(value)
    if text is not None:
        general = _general_safe(value)
        assert text == dump_json(general)
        assert _same(value, general)


@_SETTINGS
@given(_PLAIN_VALUE)
def test_json_types_alone_are_encoded_as_they_are(value: Any) -> None:
    has_tuple = _holds_tuple(value)
    try:
        orjson.dumps(value)
    except TypeError:  # large integers, lone surrogates: the general path
        assert json_text(value) is None
        return
    assert (json_text(value) is None) == has_tuple


def _holds_tuple(value: Any) -> bool:
    if isinstance(value, tuple):
        return True
    if isinstance(value, dict):
        return any(_holds_tuple(v) for v in value.values())
    return isinstance(value, list) and any(_holds_tuple(v) for v in value)


@pytest.mark.parametrize(
    "value",
    [
        1.5, {"a": 2.0}, {"a": [1, float("nan")]}, {"a": float("inf")}, [Colour.RED],
        {"u": uuid.UUID(int=7)}, {"t": (1, 2)}, {Colour.RED: 1}, {1: "a"}, {"b": 2**64},
        {"d": date(2026, 3, 2)}, ["\ud800"], [orjson.Fragment(b"1.5")], float("nan"),
    ],
)  # fmt: skip
def test_anything_orjson_would_write_otherwise_takes_the_general_path(value: Any) -> None:
    """NaN, which orjson writes as ``null``, and floats, tuples, enums, UUIDs and dates."""
    assert json_text(value) is None


@pytest.mark.parametrize(
    "value",
    [1.5, {"a": 2.0}, [Colour.RED], {1: "a"}, {"é": 1}, {"d": date(2026, 3, 2)}, float("nan")],
)
def test_anything_but_plain_json_types_leaves_the_fast_path(value: Any) -> None:
    with pytest.raises(NotPlain):
        plain(value)


def test_orjson_escapes_every_character_as_json_does() -> None:
    """Every code point but the surrogates (which orjson refuses, and the fast path then hands
    back to ``json``), alone in a string and as a key sorted among others."""
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        text = f"a{chr(cp)}b"
        assert orjson.dumps(text).decode() == _ENCODER.encode(text), hex(cp)
    keys = {chr(cp): cp for cp in (0x20, 0x41, 0x61, 0x7F, 0xFF, 0x100, 0xFFFD, 0x10000, 0x10FFFF)}
    assert orjson.dumps(keys, option=orjson.OPT_SORT_KEYS).decode() == _ENCODER.encode(keys)


def test_what_orjson_refuses_is_encoded_by_json() -> None:
    for value in ({"big": 2**64}, ["\ud800"], {"deep": json.loads("[" * 300 + "]" * 300)}):
        assert canonical_json(value) == _ENCODER.encode(value)


@_SETTINGS
@given(
    st.lists(_TEXT | st.integers(min_value=-(10**20), max_value=10**20), max_size=4),
    st.lists(st.integers(min_value=0, max_value=50) | _TEXT, min_size=1, max_size=5),
)
def test_ids_derived_from_shared_parts_are_the_derived_ids(
    parts: list[Any], lasts: list[Any]
) -> None:
    of = derived_ids("event", *parts)
    for last in lasts:
        assert of(last) == derived_id("event", *parts, last)


@_SETTINGS
@given(_VALUE)
def test_data_copied_for_a_rule_is_a_deep_copy(value: Any) -> None:
    data = {"data": value, "list": [value]}
    copied = copy_data(data)
    assert _same(copied, copy.deepcopy(data))
    copied["list"].append(1)
    assert len(data["list"]) == 1


def _same(a: Any, b: Any) -> bool:
    """Equal, NaN-safe and type-exact (a tuple stays a tuple)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return bool(a == b)


_NUMBER_TEXT = (
    st.integers().map(str)
    | st.floats(allow_nan=False, allow_infinity=False).map(repr)
    | st.sampled_from(["1e400", "-1e400", "1e-400", "-0", "-0.0", "1E5", "-9223372036854775809"])
)
_JSON_TEXT = st.recursive(
    _NUMBER_TEXT | _TEXT.map(lambda s: json.dumps(s, ensure_ascii=False)),
    lambda inner: st.lists(inner, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]"),
    max_leaves=12,
)


@_SETTINGS
@given(_JSON_TEXT)
def test_json_columns_read_back_as_the_standard_library_reads_them(text: str) -> None:
    # Integers past 64 bits (JSONB prints 1e100 as a 101-digit integer), numbers past the
    # float range and lone surrogates are where orjson and the standard library part ways.
    assert _same(decode_json(text), json.loads(text))
