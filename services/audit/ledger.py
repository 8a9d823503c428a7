"""Replaying signed checkpoints: which of them hold, and the head each workflow had when signed.

A checkpoint counts only if its signature holds under the public key. The copies in the
database and in the checkpoint folder are compared: one missing from the database was deleted
there, one whose signature fails was forged or altered. Each company's statements must run
#1, #2, … each naming the digest of the one before, so one removed from the middle is found
(one removed from the end, from the database and the folder alike, is found only by an
external archive of the ``checkpoint_signed`` events).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from uuid import UUID

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit.keys import key_id, signature_holds
from services.audit.statements import Checkpoint, NotACheckpoint
from services.store.chain import GENESIS
from services.store.history import SignedHead


@dataclass
class Ledger:
    signed: dict[UUID, SignedHead] = field(default_factory=dict)
    last: dict[str, Checkpoint] = field(default_factory=dict)  # latest that holds, per company
    findings: list[str] = field(default_factory=list)
    verified: int = 0


def _well_formed(checkpoint: Checkpoint, ledger: Ledger) -> bool:
    try:
        checkpoint.company_id, checkpoint.seq, checkpoint.previous, checkpoint.taken_at  # noqa: B018
        checkpoint.heads()
    except (NotACheckpoint, KeyError, ValueError, TypeError) as e:
        ledger.findings.append(f"a checkpoint in {checkpoint.where} is malformed (altered): {e}")
        return False
    return True


def _genuine(checkpoint: Checkpoint, key: Ed25519PublicKey, ledger: Ledger) -> bool:
    if not _well_formed(checkpoint, ledger):
        return False
    if signature_holds(key, checkpoint.statement, checkpoint.signature):
        return True
    other_key = "" if checkpoint.key_id == key_id(key) else " (it names another key)"
    ledger.findings.append(
        f"{checkpoint.label()} in {checkpoint.where}: the signature does not hold{other_key}: "
        "forged or altered"
    )
    return False


def _collect(
    in_database: list[Checkpoint],
    in_folder: list[Checkpoint],
    key: Ed25519PublicKey,
    ledger: Ledger,
) -> dict[str, dict[int, Checkpoint]]:
    companies: dict[str, dict[int, Checkpoint]] = {}
    for checkpoint in in_database:
        if _genuine(checkpoint, key, ledger):
            companies.setdefault(checkpoint.company_id, {})[checkpoint.seq] = checkpoint
    listed = {(c.company_id, c.seq) for c in in_database if _quiet_key(c) is not None}
    for checkpoint in in_folder:
        if not _genuine(checkpoint, key, ledger):
            continue
        at = (checkpoint.company_id, checkpoint.seq)
        known = companies.setdefault(checkpoint.company_id, {}).get(checkpoint.seq)
        if known is not None and known.statement != checkpoint.statement:
            ledger.findings.append(
                f"{checkpoint.label()}: {checkpoint.where} and the database hold two different "
                "signed statements (the signing key signed twice: is it still secret?)"
            )
        elif at not in listed:
            ledger.findings.append(
                f"{checkpoint.label()} is in {checkpoint.where} but not in the database "
                "(deleted there, or the checkpoints table truncated)"
            )
        companies[checkpoint.company_id].setdefault(checkpoint.seq, checkpoint)
    return companies


def _quiet_key(checkpoint: Checkpoint) -> tuple[str, int] | None:
    try:
        return checkpoint.company_id, checkpoint.seq
    except (NotACheckpoint, KeyError, ValueError, TypeError):
        return None


def replay(
    in_database: list[Checkpoint], in_folder: list[Checkpoint], key: Ed25519PublicKey
) -> Ledger:
    """The signed head of every workflow, from the checkpoints that hold, in order."""
    ledger = Ledger()
    for company, by_seq in sorted(_collect(in_database, in_folder, key, ledger).items()):
        previous: Checkpoint | None = None
        for seq in range(1, max(by_seq) + 1):
            checkpoint = by_seq.get(seq)
            if checkpoint is None:
                ledger.findings.append(
                    f"checkpoint #{seq} of {company} is missing (deleted): #{max(by_seq)} exists"
                )
                previous = None  # the next one's link cannot be checked; the gap is the finding
                continue
            expected = previous.digest if previous else GENESIS
            if previous is not None or seq == 1:
                if checkpoint.previous != expected:
                    ledger.findings.append(
                        f"{checkpoint.label()} does not follow #{seq - 1}: the sequence was altered"
                    )
            for workflow_id, version, head in checkpoint.heads():
                ledger.signed[workflow_id] = SignedHead(company, version, head, seq)
            ledger.verified += 1
            previous = ledger.last[company] = checkpoint
    return ledger
