"""No two different tuples of parts derive one id, whatever characters the parts hold.

Finding: ids joined with U+001F let company ``timer`` with message id ``"acme\\x1f<timer id>"``
take the id of company ``acme``'s timer event. The strategies below draw exactly such parts:
short strings over an alphabet rich in separators, NULs, surrogates and digits, so that
different tuples often concatenate alike.
"""

from __future__ import annotations

import hashlib
import uuid
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from services.engine.events import event_id, legacy_event_id
from services.ids import NAMESPACE, derived_id, encode_parts

_TRICKY = st.sampled_from(["\x1f", "\x00", "\x1e", "|", ":", "/", "0", "1", "a", "\ud800", "é"])
_TEXT = st.lists(_TRICKY, max_size=6).map("".join) | st.text(max_size=8)
_PART = _TEXT | st.integers(min_value=-(10**20), max_value=10**20)
_PARTS = st.lists(_PART, max_size=5).map(tuple)
# No per-example deadline: the machine running CI may be busy; the property is what counts.
_SETTINGS = settings(deadline=None, max_examples=150)


def _decode(encoded: bytes) -> tuple[str | int, ...]:
    """The inverse of ``encode_parts``: that it exists is what makes the encoding injective."""
    parts: list[str | int] = []
    at = 0
    while at < len(encoded):
        tag, size = encoded[at : at + 1], int.from_bytes(encoded[at + 1 : at + 9], "big")
        data = encoded[at + 9 : at + 9 + size]
        assert len(data) == size
        parts.append(data.decode("utf-8", "surrogatepass") if tag == b"s" else int(data))
        at += 9 + size
    return tuple(parts)


@_SETTINGS
@given(_PARTS)
def test_the_encoding_of_parts_decodes_back_to_the_same_parts(parts: tuple[str | int, ...]) -> None:
    assert _decode(encode_parts(parts)) == parts


@_SETTINGS
@given(_TEXT, _PARTS, _TEXT, _PARTS)
def test_different_parts_never_derive_the_same_id(
    purpose_a: str, a: tuple[str | int, ...], purpose_b: str, b: tuple[str | int, ...]
) -> None:
    if (purpose_a, *a) != (purpose_b, *b):
        assert derived_id(purpose_a, *a) != derived_id(purpose_b, *b)
    else:
        assert derived_id(purpose_a, *a) == derived_id(purpose_b, *b)


def _split(text: str, cuts: set[int]) -> tuple[str, ...]:
    at = [0, *sorted(c for c in cuts if 0 < c < len(text)), len(text)]
    return tuple(text[a:b] for a, b in pairwise(at))


@_SETTINGS
@given(_TEXT, st.sets(st.integers(0, 8)), st.sets(st.integers(0, 8)))
def test_parts_that_concatenate_alike_never_derive_alike(
    text: str, cuts_a: set[int], cuts_b: set[int]
) -> None:
    """The adversary of a joined id: the same characters, cut into parts at other places."""
    a, b = _split(text, cuts_a), _split(text, cuts_b)
    assert "".join(a) == "".join(b)
    assert (derived_id("event", *a) == derived_id("event", *b)) == (a == b)


_COMPANY = st.lists(_TRICKY, min_size=1, max_size=6).map("".join) | st.text(min_size=1)
_KIND = st.sampled_from(["command", "timer"])


@_SETTINGS
@given(_COMPANY, _KIND, _TEXT, st.integers(0, 50), _COMPANY, _KIND, _TEXT, st.integers(0, 50))
def test_no_company_s_message_derives_another_company_s_event_id(
    company_a: str, kind_a: str, message_a: str, position_a: int,
    company_b: str, kind_b: str, message_b: str, position_b: int,
) -> None:  # fmt: skip
    a, b = (company_a, kind_a, message_a, position_a), (company_b, kind_b, message_b, position_b)
    if a != b:
        assert event_id(company_a, message_a, position_a, kind_a) != event_id(
            company_b, message_b, position_b, kind_b
        )


def test_the_reported_collision_no_longer_happens() -> None:
    timer_id = "6f1c3e0a-5b7d-4c2e-9a8f-1d2e3f4a5b6c"
    # the joined derivation: company `timer`'s command equals company acme's timer event
    assert legacy_event_id("timer", f"acme\x1f{timer_id}", 0, "command") == legacy_event_id(
        "acme", timer_id, 0, "timer"
    )
    assert event_id("timer", f"acme\x1f{timer_id}", 0, "command") != event_id(
        "acme", timer_id, 0, "timer"
    )


def test_a_bool_is_not_taken_for_the_integer_it_equals() -> None:
    import pytest

    with pytest.raises(TypeError):
        derived_id("event", True)


def test_ids_are_the_uuid5_of_the_encoded_parts_as_stored() -> None:
    """The id text is ``uuid.UUID``'s for the SHA-1 of the namespace and parts, version 5: ids
    are stored, so these values never change."""
    assert (
        derived_id("event", "acme", "command", "m-1", 0) == "f668acd2-eae0-569c-a7bd-54778d42c108"
    )
    assert derived_id("share_register", "acme") == "401afcaf-3407-56fa-9aec-2a9e9291e4c6"
    assert event_id("acme", "m-1", 3, "timer") == "39893a39-bff5-5935-b67d-b6077d302454"


@_SETTINGS
@given(_PARTS)
def test_the_id_text_is_uuid_s_own(parts: tuple[str | int, ...]) -> None:
    sha1 = hashlib.sha1(NAMESPACE.bytes + encode_parts(("event", *parts))).digest()
    assert derived_id("event", *parts) == str(uuid.UUID(bytes=sha1[:16], version=5))
