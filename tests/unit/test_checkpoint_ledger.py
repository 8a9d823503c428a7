"""Replaying signed checkpoints: only signatures that hold count, and gaps are found."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.keys import key_id, sign
from services.audit.ledger import replay
from services.audit.statements import Checkpoint, statement_text

KEY = Ed25519PrivateKey.generate()
W1, W2 = UUID(int=1), UUID(int=2)


def _chain(heads_per_checkpoint: list[list[tuple[UUID, int, str]]], key=KEY) -> list[Checkpoint]:  # type: ignore[no-untyped-def]
    out: list[Checkpoint] = []
    for seq, heads in enumerate(heads_per_checkpoint, start=1):
        text = statement_text(
            company_id="acme", seq=seq, previous=out[-1] if out else None,
            taken_at=datetime(2026, 3, seq, tzinfo=UTC), key_id=key_id(key.public_key()),
            workflows=2, history_rows=seq * 2, heads=heads,
        )  # fmt: skip
        out.append(Checkpoint(text, sign(key, text)))
    return out


def test_the_latest_signed_head_of_each_workflow_wins() -> None:
    ledger = replay(_chain([[(W1, 1, "a"), (W2, 1, "b")], [(W1, 3, "c")]]), [], KEY.public_key())
    assert ledger.findings == [] and ledger.verified == 2
    assert (ledger.signed[W1].version, ledger.signed[W1].hash, ledger.signed[W1].checkpoint) == (
        3, "c", 2,
    )  # fmt: skip
    assert ledger.signed[W2].version == 1 and ledger.last["acme"].seq == 2


def test_a_checkpoint_signed_with_another_key_does_not_count() -> None:
    forged = _chain([[(W1, 9, "x")]], key=Ed25519PrivateKey.generate())
    ledger = replay(forged, [], KEY.public_key())
    assert ledger.signed == {} and ledger.verified == 0
    assert ledger.findings == [
        "checkpoint #1 of acme in the database: the signature does not hold "
        "(it names another key): forged or altered"
    ]


def test_a_checkpoint_removed_from_the_middle_is_found() -> None:
    first, _, third = _chain([[(W1, 1, "a")], [(W1, 2, "b")], [(W1, 3, "c")]])
    ledger = replay([first, third], [], KEY.public_key())
    assert "checkpoint #2 of acme is missing (deleted): #3 exists" in ledger.findings
    assert "checkpoint #3 of acme does not follow #2: the sequence was altered" not in (
        ledger.findings
    )  # #2 is absent, so #3's link cannot be checked; the gap is the finding


def test_a_copy_only_in_the_folder_was_deleted_from_the_database() -> None:
    first, second = _chain([[(W1, 1, "a")], [(W1, 2, "b")]])
    in_folder = Checkpoint(second.statement, second.signature, where="archive/acme@2.json")
    ledger = replay([first], [in_folder], KEY.public_key())
    assert ledger.signed[W1].version == 2
    assert ledger.findings == [
        "checkpoint #2 of acme is in archive/acme@2.json but not in the database "
        "(deleted there, or the checkpoints table truncated)"
    ]
