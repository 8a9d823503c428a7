"""``equityflow checkpoint``: sign each company's history heads with a key kept off the database.

Who takes checkpoints: an operator's scheduler (cron, a Kubernetes CronJob) runs
``equityflow checkpoint`` on a host that holds the private key; no service ever reads it.
Each run first verifies the chain and the earlier checkpoints (``services.audit.verify``) in
one snapshot, and signs nothing if anything is broken: a checkpoint never blesses tampering.
Then, for each company whose heads changed, it signs a statement (``services.audit.statements``)
and, in one transaction, stores it in ``checkpoints`` and puts a ``checkpoint_signed`` event in
the outbox (the relay publishes it, for archiving outside this system); the file goes to the
checkpoint folder, if one is set.

What it proves: whoever controls the database (a superuser, the tables' owner, a restored
backup) can still rewrite rows and recompute the chain, but cannot forge a checkpoint without
the key; every row up to a company's last checkpoint is provably the row that was signed.
Rows written after it are only chained.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from services.audit.keys import key_id, sign
from services.audit.statements import Checkpoint, checkpoint_event, statement_text, write_file
from services.audit.verify import Audit, audit
from services.engine.events import EVENTS_EXCHANGE
from services.store.outbox import Outgoing, write_outbox

# Any fixed 64-bit key: two checkpoint runs at once would number their statements alike.
_CHECKPOINT_LOCK = 0x6571_6368_6B70_7473
_INSERT = """
INSERT INTO checkpoints (company_id, seq, statement, signature, key_id, taken_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""


@dataclass
class Run:
    audit: Audit
    taken: list[Checkpoint] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    files: list[Path] = field(default_factory=list)


def _statements(run: Run, key: Ed25519PrivateKey, taken_at: datetime) -> list[Checkpoint]:
    report, ledger = run.audit.report, run.audit.ledger
    by_company: dict[str, list[tuple[UUID, int, str]]] = {}
    changed: dict[str, list[tuple[UUID, int, str]]] = {}
    for workflow_id, head in report.heads.items():
        entry = (workflow_id, head.version, head.hash)
        by_company.setdefault(head.company_id, []).append(entry)
        signed = ledger.signed.get(workflow_id)
        if signed is None or (signed.version, signed.hash) != (head.version, head.hash):
            changed.setdefault(head.company_id, []).append(entry)
    statements = []
    for company in sorted(by_company):
        if company not in changed:
            run.unchanged.append(company)
            continue
        previous = ledger.last.get(company)
        text = statement_text(
            company_id=company, seq=previous.seq + 1 if previous else 1, previous=previous,
            taken_at=taken_at, key_id=key_id(key.public_key()),
            workflows=len(by_company[company]), history_rows=report.rows_by_company[company],
            heads=changed[company],
        )  # fmt: skip
        statements.append(Checkpoint(text, sign(key, text)))
    return statements


async def take_checkpoints(
    pool: asyncpg.Pool,
    key: Ed25519PrivateKey,
    *,
    company_id: str | None = None,
    folder: Path | None = None,
) -> Run:
    """Verify, then sign and store a checkpoint for every company whose heads changed."""
    async with pool.acquire() as connection:
        await connection.execute("SELECT pg_advisory_lock($1)", _CHECKPOINT_LOCK)
        try:
            async with connection.transaction(isolation="repeatable_read", readonly=True):
                run = Run(
                    await audit(connection, key.public_key(), company_id=company_id, folder=folder)
                )
                # The database's clock: a checkpoint's time is bookkeeping, not law.
                taken_at = await connection.fetchval("SELECT now()")
            if not run.audit.report.ok:
                return run
            run.taken = _statements(run, key, taken_at)
            async with connection.transaction():
                for c in run.taken:
                    await connection.execute(
                        _INSERT, c.company_id, c.seq, c.statement, c.signature, c.key_id,
                        c.taken_at,
                    )  # fmt: skip
                    out = Outgoing(EVENTS_EXCHANGE, [checkpoint_event(c)])
                    await write_outbox(connection, c.company_id, None, out)
        finally:
            await connection.execute("SELECT pg_advisory_unlock($1)", _CHECKPOINT_LOCK)
    if folder is not None:
        run.files = [write_file(folder, c) for c in run.taken]
    return run
