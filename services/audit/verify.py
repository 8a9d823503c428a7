"""``equityflow verify``: the hash chain, checked against the signed checkpoints.

One read-only snapshot (REPEATABLE READ): the checkpoints, every history row and every workflow
row are read as of one instant. The chain alone finds a row changed around the trigger, a row
moved to another company, edited data and a deleted tail. Against someone who also recomputes
the chain and the head hashes, the checkpoints find what they signed: a rewritten row, a
workflow moved, rolled back or deleted, fewer rows than were counted, a truncated table.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from services.audit import CheckpointKeyError
from services.audit.ledger import Ledger, replay
from services.audit.statements import Checkpoint, read_files
from services.store.db import Connection
from services.store.history import ChainReport, walk_chain

_CHECKPOINTS = """
SELECT statement, signature FROM checkpoints
WHERE ($1::text IS NULL OR company_id = $1) ORDER BY company_id, seq
"""
_WHERE_NOW = "SELECT workflow_id, company_id FROM workflows WHERE workflow_id = ANY($1::uuid[])"
_EMPTY = """
SELECT NOT EXISTS (SELECT 1 FROM history) AS history,
       NOT EXISTS (SELECT 1 FROM workflows) AS workflows
"""


@dataclass(frozen=True)
class Audit:
    report: ChainReport
    ledger: Ledger


async def _checkpoints(
    connection: Connection, company_id: str | None, folder: Path | None
) -> tuple[list[Checkpoint], list[Checkpoint], list[str]]:
    rows = await connection.fetch(_CHECKPOINTS, company_id)
    in_database = [Checkpoint(r["statement"], r["signature"]) for r in rows]
    in_folder: list[Checkpoint] = []
    bad: list[str] = []
    if folder is not None:
        in_folder, bad = await asyncio.to_thread(read_files, folder)
        in_folder = [
            c for c in in_folder if company_id is None or _company(c) in (company_id, None)
        ]
    return in_database, in_folder, bad


def _company(checkpoint: Checkpoint) -> str | None:
    try:
        return checkpoint.company_id
    except Exception:  # a malformed statement: the ledger reports it
        return None


async def audit(
    connection: Connection,
    key: Ed25519PublicKey | None,
    *,
    company_id: str | None = None,
    folder: Path | None = None,
) -> Audit:
    """Verify the chain and the checkpoints in scope; call inside a read-only snapshot."""
    in_database, in_folder, bad = await _checkpoints(connection, company_id, folder)
    if key is None:
        if in_database or in_folder:
            raise CheckpointKeyError(
                f"{len(in_database) + len(in_folder)} signed checkpoint(s) found but no public "
                "key to verify them: set EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE"
            )
        ledger = Ledger()
    else:
        ledger = replay(in_database, in_folder, key)
    ledger.findings[:0] = bad
    report = await walk_chain(connection, company_id, signed=ledger.signed)
    for finding in ledger.findings:
        report.add(None, 0, finding)
    await _missing_workflows(connection, report, ledger)
    await _counts(connection, report, ledger)
    _describe(report, ledger)
    return Audit(report, ledger)


async def _missing_workflows(connection: Connection, report: ChainReport, ledger: Ledger) -> None:
    """Signed workflows the walk never saw: moved to a company out of scope, or deleted."""
    missing = sorted(set(ledger.signed) - report.seen)
    if not missing:
        return
    where = {r["workflow_id"]: r["company_id"] for r in await connection.fetch(_WHERE_NOW, missing)}
    for workflow_id in missing:
        head = ledger.signed[workflow_id]
        signed_by = f"checkpoint #{head.checkpoint} of {head.company_id}"
        if workflow_id in where:
            report.add(
                workflow_id, head.version,
                f"moved from company {head.company_id} to {where[workflow_id]} since {signed_by}",
            )  # fmt: skip
        else:
            report.add(
                workflow_id, head.version,
                f"workflow missing: {signed_by} signed version {head.version} "
                "(deleted, or its table truncated)",
            )  # fmt: skip


async def _counts(connection: Connection, report: ChainReport, ledger: Ledger) -> None:
    """Fewer rows or workflows than the last checkpoint counted: deleted, or truncated."""
    if not ledger.last:
        return
    empty = await connection.fetchrow(_EMPTY)
    assert empty is not None  # one row: an aggregate over the tables
    counted_rows = sum(c.history_rows for c in ledger.last.values())
    if empty["history"] and counted_rows:
        report.add(None, 0, f"the history table is empty but checkpoints counted {counted_rows} "
                   "rows: it was truncated")  # fmt: skip
    if empty["workflows"] and counted_rows:
        counted = sum(c.workflows for c in ledger.last.values())
        report.add(None, 0, f"the workflows table is empty but checkpoints counted {counted}: "
                   "it was truncated")  # fmt: skip
    workflows_now: dict[str, int] = {}
    for head in report.heads.values():
        workflows_now[head.company_id] = workflows_now.get(head.company_id, 0) + 1
    for company, checkpoint in sorted(ledger.last.items()):
        rows = report.rows_by_company.get(company, 0)
        if rows < checkpoint.history_rows:
            report.add(None, 0, f"company {company}: history holds {rows} rows but "
                       f"{checkpoint.label()} counted {checkpoint.history_rows} "
                       "(rows deleted or table truncated)")  # fmt: skip
        if workflows_now.get(company, 0) < checkpoint.workflows:
            report.add(None, 0, f"company {company}: {workflows_now.get(company, 0)} workflows "
                       f"but {checkpoint.label()} counted {checkpoint.workflows}")  # fmt: skip


def _describe(report: ChainReport, ledger: Ledger) -> None:
    """What the checkpoints prove, in a line per company."""
    if not ledger.last:
        report.notes.append(
            "  no signed checkpoint: the chain shows rows changed around it, not a chain "
            "recomputed by whoever controls the database (see `equityflow checkpoint`)"
        )
        return
    report.notes.append(f"  {ledger.verified} signed checkpoint(s) hold")
    for company, rows in sorted(report.rows_by_company.items()):
        if company not in ledger.last:
            report.notes.append(
                f"  {company}: never checkpointed; its {rows} row(s) are only chained"
            )
    for company, checkpoint in sorted(ledger.last.items()):
        after = report.rows_by_company.get(company, 0) - checkpoint.history_rows
        report.notes.append(
            f"  {company}: last signed by {checkpoint.label()} "
            f"({checkpoint.taken_at.isoformat()}); {max(after, 0)} row(s) written after it "
            "are only chained"
        )
