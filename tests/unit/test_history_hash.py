"""The history hash chain, as pure functions: what is hashed, and what changes the hash."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from services.store.canonical import canonical_json
from services.store.chain import GENESIS, chain_hash, json_digest, row_content, row_content_v2

WORKFLOW = UUID("6f1c2d3e-0000-4000-8000-000000000001")
AT = datetime(2026, 3, 2, 17, 30, tzinfo=UTC)


def content(**changes: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        workflow_id=WORKFLOW, seq=1, message_id="m-1",
        message={"command": "deliver_disposition_notice", "payload": {"shares": 100}},
        state_from=None, state_to="notice_received",
        events=[{"type": "disposition_notice_received"}], applied_at=AT,
    )  # fmt: skip
    base.update(changes)
    return row_content(**base)  # type: ignore[arg-type]


def test_the_first_row_chains_from_64_zeros_over_canonical_json() -> None:
    expected_text = (
        '{"applied_at":"2026-03-02T17:30:00+00:00",'
        '"events":[{"type":"disposition_notice_received"}],'
        '"message":{"command":"deliver_disposition_notice","payload":{"shares":100}},'
        '"message_id":"m-1","seq":1,"state_from":null,"state_to":"notice_received",'
        '"workflow_id":"6f1c2d3e-0000-4000-8000-000000000001"}'
    )
    assert GENESIS == "0" * 64
    assert (
        chain_hash(GENESIS, content())
        == hashlib.sha256((GENESIS + expected_text).encode()).hexdigest()
    )


@pytest.mark.parametrize(
    "change",
    [
        {"seq": 2},
        {"message_id": "m-2"},
        {"message": {"command": "deliver_disposition_notice", "payload": {"shares": 101}}},
        {"state_from": "started"},
        {"state_to": "rofr_exercised"},
        {"events": []},
        {"applied_at": AT + timedelta(microseconds=1)},
        {"workflow_id": UUID(int=1)},
    ],
)
def test_any_change_to_the_content_changes_the_hash(change: dict[str, object]) -> None:
    assert chain_hash(GENESIS, content(**change)) != chain_hash(GENESIS, content())


def test_the_hash_depends_on_the_previous_row() -> None:
    first = chain_hash(GENESIS, content())
    assert chain_hash(first, content(seq=2)) != chain_hash(GENESIS, content(seq=2))


def test_the_same_content_hashes_the_same_however_it_was_read_back() -> None:
    pacific = timezone(timedelta(hours=-8))
    as_written = content(message={"b": 1.0, "a": [1e100, 0.1]}, applied_at=AT)
    # JSONB returns keys in its own order, integral numbers without ".0" and times in UTC.
    as_read = content(message={"a": [10**100, 0.1], "b": 1}, applied_at=AT.astimezone(pacific))
    assert chain_hash(GENESIS, as_written) == chain_hash(GENESIS, as_read)


def test_numbers_that_are_not_json_are_refused() -> None:
    with pytest.raises(ValueError):
        canonical_json({"price": float("nan")})


def content_v2(**changes: object) -> dict[str, object]:
    base: dict[str, object] = dict(
        company_id="acme", workflow_id=WORKFLOW, workflow_type="rofr", seq=1, message_id="m-1",
        message={"kind": "command", "command": "deliver_transfer_notice"},
        state_from=None, state_to="notice_received", final=False, data_digest="d" * 64,
        terms_digest="t" * 64, events=[{"type": "deadline_set"}], applied_at=AT,
    )  # fmt: skip
    base.update(changes)
    return row_content_v2(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "change",
    [
        {"company_id": "mallory"},
        {"workflow_type": "repurchase"},
        {"final": True},
        {"data_digest": "e" * 64},
        {"terms_digest": None},
        {"message": {"kind": "timer", "command": "deliver_transfer_notice"}},
        {"events": [{"type": "deadline_cancelled"}]},
    ],
)
def test_hash_version_2_covers_what_a_reader_relies_on(change: dict[str, object]) -> None:
    assert chain_hash(GENESIS, content_v2(**change)) != chain_hash(GENESIS, content_v2())


def test_the_two_hash_versions_never_share_a_content() -> None:
    assert content_v2()["hash_version"] == 2
    assert "hash_version" not in content()


def test_the_data_digest_is_of_canonical_json() -> None:
    assert json_digest({"b": 1.0, "a": 2}) == hashlib.sha256(b'{"a":2,"b":1}').hexdigest()
