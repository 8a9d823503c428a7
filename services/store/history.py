"""The append-only, hash-chained history of every workflow.

Each row's ``hash`` is ``sha256(prev_hash + canonical JSON of its content)``, where the content
is (workflow_id, seq, message_id, message, state_from, state_to, events, applied_at) and the
first row of a workflow chains from 64 zeros. A trigger refuses UPDATE and DELETE; the chain
makes any change made around it (by a superuser, on a restored backup) detectable.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.store.canonical import canonical_json

GENESIS = "0" * 64


def row_content(
    workflow_id: UUID,
    seq: int,
    message_id: str,
    message: Any,
    state_from: str | None,
    state_to: str,
    events: Any,
    applied_at: datetime,
) -> dict[str, Any]:
    return {
        "workflow_id": str(workflow_id),
        "seq": seq,
        "message_id": message_id,
        "message": message,
        "state_from": state_from,
        "state_to": state_to,
        "events": events,
        "applied_at": applied_at.astimezone(UTC).isoformat(),
    }


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical_json(content)).encode()).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    workflow_id: UUID
    seq: int
    reason: str


@dataclass
class ChainReport:
    rows_checked: int = 0
    workflows_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def summary(self) -> str:
        rows = _count(self.rows_checked, "history row")
        workflows = _count(self.workflows_checked, "workflow")
        head = f"{rows} in {workflows}: " + (
            "chain intact" if self.ok else f"{_count(len(self.breaks), 'broken link')}"
        )
        lines = [f"  {b.workflow_id} seq {b.seq}: {b.reason}" for b in self.breaks]
        return "\n".join([head, *lines])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_ROWS = """
SELECT w.workflow_id, h.seq, h.message_id, h.message, h.state_from, h.state_to, h.events,
       h.applied_at, h.prev_hash, h.hash, w.version AS workflow_version, w.state AS workflow_state,
       w.head_hash
FROM workflows w LEFT JOIN history h ON h.workflow_id = w.workflow_id
WHERE ($1::text IS NULL OR w.company_id = $1) AND ($2::uuid IS NULL OR w.workflow_id = $2)
ORDER BY w.workflow_id, h.seq
"""


class _Walker:
    """Follows one workflow's rows in seq order and records every link that does not hold."""

    def __init__(self, report: ChainReport) -> None:
        self.report = report
        self.workflow: UUID | None = None
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.last: asyncpg.Record | None = None

    def add(self, row: asyncpg.Record) -> None:
        if row["workflow_id"] != self.workflow:
            self.finish()
            self.workflow, self.expected_seq, self.prev_hash = row["workflow_id"], 1, GENESIS
            self.report.workflows_checked += 1
        wid, seq = row["workflow_id"], row["seq"]
        if seq is None:
            self._break(wid, 0, "workflow has no history")
            return
        self.report.rows_checked += 1
        if seq != self.expected_seq:
            self._break(wid, seq, f"expected seq {self.expected_seq}: a row is missing")
        if row["prev_hash"] != self.prev_hash:
            self._break(wid, seq, "prev_hash does not match the hash of the row before")
        content = row_content(
            wid, seq, row["message_id"], row["message"], row["state_from"], row["state_to"],
            row["events"], row["applied_at"],
        )  # fmt: skip
        if chain_hash(row["prev_hash"], content) != row["hash"]:
            self._break(wid, seq, "hash does not match the row's content (row altered)")
        self.expected_seq, self.prev_hash, self.last = seq + 1, row["hash"], row

    def finish(self) -> None:
        last = self.last
        if last is None:
            return
        if last["workflow_version"] != last["seq"]:
            self._break(
                last["workflow_id"],
                last["seq"],
                f"workflow is at version {last['workflow_version']} but history ends here",
            )
        elif last["workflow_state"] != last["state_to"]:
            self._break(last["workflow_id"], last["seq"], "workflow state differs from history")
        elif last["head_hash"] != last["hash"]:
            self._break(last["workflow_id"], last["seq"], "workflow head_hash is not the last hash")
        self.last = None

    def _break(self, workflow_id: UUID, seq: int, reason: str) -> None:
        self.report.breaks.append(ChainBreak(workflow_id, seq, reason))


async def verify_chain(
    pool: asyncpg.Pool, company_id: str | None = None, workflow_id: UUID | None = None
) -> ChainReport:
    """Recompute every hash (of one company, one workflow, or all) and report each break."""
    report = ChainReport()
    walker = _Walker(report)
    async with pool.acquire() as connection, connection.transaction(readonly=True):
        async for row in connection.cursor(_ROWS, company_id, workflow_id, prefetch=1000):
            walker.add(row)
    walker.finish()
    return report
