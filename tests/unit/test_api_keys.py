"""API key format: a key parses back to its id and secret, anything else is no key at all,
and only the digest of the secret is needed to check it."""

from __future__ import annotations

import pytest

from services.auth import keys


def test_a_new_key_parses_back_and_matches_its_digest_only() -> None:
    key = keys.new_key()
    assert keys.parse(key.token) == (key.key_id, key.secret)
    assert keys.matches(key.secret, keys.digest(key.secret))
    assert not keys.matches(key.secret[:-1] + "x", keys.digest(key.secret))
    assert key.secret not in key.key_id
    assert keys.new_key().token != key.token


@pytest.mark.parametrize(
    "token",
    [
        "",
        "efk_",
        "efk_0123456789abcdef",
        "efk_0123456789abcdef_short",
        "efk_0123456789ABCDEF_" + "a" * 43,  # ids are lower-case hex
        "xyz_0123456789abcdef_" + "a" * 43,
        "efk_0123456789abcdef_" + "a" * 43 + "\x00",
        " efk_0123456789abcdef_" + "a" * 43,
    ],
)
def test_anything_but_a_well_formed_key_is_no_key(token: str) -> None:
    assert keys.parse(token) is None
