"""Verifying the append-only, hash-chained history of every workflow.

Every row is recomputed under the hash rule it was written with (``services.store.chain``):
a row changed around the append-only trigger (by a superuser, on a restored backup) no longer
matches its hash, and a row rewritten with its chain recomputed no longer matches the head a
signed checkpoint holds (``signed``, from ``services.audit``). Beyond the chain, the workflow
row must agree with its last history row: version, state, head hash, final, the digest of its
data, and the digest of the terms its first row pinned; and every row must name the company of
its workflow, and every timer must be one the history set (``services.store.history_timers``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

import asyncpg

from services.store.chain import GENESIS, chain_hash, json_digest, row_content, row_content_v2
from services.store.db import Connection
from services.store.history_timers import DeadlineLedger, check_timers


@dataclass(frozen=True)
class SignedHead:
    """A workflow's head as a verified checkpoint signed it."""

    company_id: str
    version: int
    hash: str
    checkpoint: int


@dataclass(frozen=True)
class Head:
    company_id: str
    version: int
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    workflow_id: UUID | None  # None: a finding about a table or a checkpoint, not a workflow
    seq: int
    reason: str

    def line(self) -> str:
        if self.workflow_id is None:
            return f"  {self.reason}"
        if self.seq == 0:  # about the workflow as a whole (or its timers), not one row
            return f"  {self.workflow_id}: {self.reason}"
        return f"  {self.workflow_id} seq {self.seq}: {self.reason}"


@dataclass
class ChainReport:
    rows_checked: int = 0
    workflows_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    heads: dict[UUID, Head] = field(default_factory=dict)
    seen: set[UUID] = field(default_factory=set)
    rows_by_company: dict[str, int] = field(default_factory=dict)
    version_1_heads: int = 0  # workflows whose last row predates hash version 2

    @property
    def ok(self) -> bool:
        return not self.breaks

    def add(self, workflow_id: UUID | None, seq: int, reason: str) -> None:
        self.breaks.append(ChainBreak(workflow_id, seq, reason))

    def summary(self) -> str:
        rows = _count(self.rows_checked, "history row")
        workflows = _count(self.workflows_checked, "workflow")
        head = f"{rows} in {workflows}: " + (
            "chain intact" if self.ok else f"{_count(len(self.breaks), 'broken link')}"
        )
        return "\n".join([head, *(b.line() for b in self.breaks), *self.notes])


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


_ROWS = """
SELECT w.workflow_id, w.company_id AS workflow_company, w.workflow_type,
       w.version AS workflow_version, w.state AS workflow_state, w.final AS workflow_final,
       w.head_hash,
       CASE WHEN h.seq = w.version THEN w.data END AS workflow_data,
       CASE WHEN h.seq = 1 THEN COALESCE(w.terms, (
         SELECT d.terms FROM terms_documents d WHERE d.digest = w.terms_digest
       )) END AS workflow_terms,
       h.seq, h.company_id, h.message_id, h.message, h.state_from, h.state_to, h.events,
       h.applied_at, h.prev_hash, h.hash, h.hash_version, h.final, h.data_digest, h.terms_digest
FROM workflows w LEFT JOIN history h ON h.workflow_id = w.workflow_id
WHERE ($1::text IS NULL OR w.company_id = $1) AND ($2::uuid IS NULL OR w.workflow_id = $2)
ORDER BY w.workflow_id, h.seq
"""
# History rows whose workflow row is gone (deleted, or the rows moved to an id that has none).
_ORPHANS = """
SELECT h.workflow_id, h.company_id, count(*) AS rows FROM history h
WHERE ($1::text IS NULL OR h.company_id = $1) AND ($2::uuid IS NULL OR h.workflow_id = $2)
  AND NOT EXISTS (SELECT 1 FROM workflows w WHERE w.workflow_id = h.workflow_id)
GROUP BY h.workflow_id, h.company_id ORDER BY h.workflow_id
"""


def expected_hash(row: Mapping[str, Any] | asyncpg.Record) -> str:
    """The hash a history row must have, under the rule (hash version) it was written with."""
    wid, seq = row["workflow_id"], row["seq"]
    if row["hash_version"] == 1:
        content = row_content(
            wid, seq, row["message_id"], row["message"], row["state_from"], row["state_to"],
            row["events"], row["applied_at"],
        )  # fmt: skip
    else:
        content = row_content_v2(
            company_id=row["company_id"], workflow_id=wid, workflow_type=row["workflow_type"],
            seq=seq, message_id=row["message_id"], message=row["message"],
            state_from=row["state_from"], state_to=row["state_to"], final=row["final"],
            data_digest=row["data_digest"], terms_digest=row["terms_digest"],
            events=row["events"], applied_at=row["applied_at"],
        )  # fmt: skip
    return chain_hash(row["prev_hash"], content)


class _Walker:
    """Follows one workflow's rows in seq order and records every link that does not hold."""

    def __init__(self, report: ChainReport, signed: Mapping[UUID, SignedHead]) -> None:
        self.report = report
        self.signed = signed
        self.deadlines = DeadlineLedger()
        self.workflow: UUID | None = None
        self.expected_seq = 1
        self.prev_hash = GENESIS
        self.prev_state: str | None = None
        self.last: asyncpg.Record | None = None

    def add(self, row: asyncpg.Record) -> None:
        if row["workflow_id"] != self.workflow:
            self.finish()
            self.workflow, self.expected_seq, self.prev_hash = row["workflow_id"], 1, GENESIS
            self.prev_state = None
            self.report.workflows_checked += 1
            self.report.seen.add(row["workflow_id"])
        wid, seq = row["workflow_id"], row["seq"]
        if seq is None:
            self._break(wid, 0, "workflow has no history (rows deleted or table truncated)")
            self._check_signed_version(row, 0)
            return
        self.report.rows_checked += 1
        company = row["workflow_company"]
        self.report.rows_by_company[company] = self.report.rows_by_company.get(company, 0) + 1
        if row["company_id"] != company:
            self._break(
                wid, seq, f"row names company {row['company_id']} but its workflow belongs to "
                f"{company} (moved between companies)",
            )  # fmt: skip
        if seq != self.expected_seq:
            self._break(wid, seq, f"expected seq {self.expected_seq}: a row is missing")
        if row["prev_hash"] != self.prev_hash:
            self._break(wid, seq, "prev_hash does not match the hash of the row before")
        if row["state_from"] != self.prev_state:
            self._break(
                wid, seq, f"starts from state {row['state_from']} but the row before ended in "
                f"{self.prev_state} (row moved from another workflow, or inserted)",
            )  # fmt: skip
        if expected_hash(row) != row["hash"]:
            self._break(wid, seq, "hash does not match the row's content (row altered)")
        self.deadlines.add_events(wid, row["events"])
        if seq == 1 and row["hash_version"] >= 2:
            if json_digest(row["workflow_terms"]) != row["terms_digest"]:
                self._break(wid, seq, "workflows.terms differs from the terms pinned at start")
        head = self.signed.get(wid)
        if head is not None and seq == head.version and row["hash"] != head.hash:
            self._break(
                wid, seq, f"history rewritten: rows up to seq {seq} are not those checkpoint "
                f"#{head.checkpoint} of {head.company_id} signed (chain recomputed)",
            )  # fmt: skip
        self.expected_seq, self.prev_hash, self.last = seq + 1, row["hash"], row
        self.prev_state = row["state_to"]

    def finish(self) -> None:
        last = self.last
        if last is None:
            return
        self.last = None
        wid, seq = last["workflow_id"], last["seq"]
        if last["workflow_version"] != seq:
            self._break(
                wid, seq, f"workflow is at version {last['workflow_version']} but history ends here"
            )
        elif last["workflow_state"] != last["state_to"]:
            self._break(wid, seq, "workflow state differs from history")
        elif last["head_hash"] != last["hash"]:
            self._break(wid, seq, "workflow head_hash is not the last hash")
        elif last["hash_version"] == 1:
            self.report.version_1_heads += 1
        elif json_digest(last["workflow_data"]) != last["data_digest"]:
            self._break(wid, seq, "workflows.data differs from its last history row (data edited)")
        elif last["workflow_final"] != last["final"]:
            self._break(wid, seq, "workflows.final differs from its last history row")
        self._check_signed_version(last, seq)
        company = last["workflow_company"]
        self.report.heads[wid] = Head(company, last["workflow_version"], last["head_hash"])

    def _check_signed_version(self, row: asyncpg.Record, last_seq: int) -> None:
        wid, head = row["workflow_id"], self.signed.get(row["workflow_id"])
        if head is None:
            return
        company = row["workflow_company"]
        if company != head.company_id:
            self._break(
                wid, last_seq, f"moved from company {head.company_id} to {company} since "
                f"checkpoint #{head.checkpoint} of {head.company_id}",
            )  # fmt: skip
        version = min(last_seq, row["workflow_version"])
        if version < head.version:
            self._break(
                wid, last_seq, f"tail deleted: the workflow is at version {version}, but "
                f"checkpoint #{head.checkpoint} of {head.company_id} signed version "
                f"{head.version} (rows removed, workflow rolled back)",
            )  # fmt: skip

    def _break(self, workflow_id: UUID, seq: int, reason: str) -> None:
        self.report.add(workflow_id, seq, reason)


async def walk_chain(
    connection: Connection,
    company_id: str | None = None,
    workflow_id: UUID | None = None,
    signed: Mapping[UUID, SignedHead] | None = None,
) -> ChainReport:
    """Recompute every hash in scope on ``connection`` (inside a transaction) and report."""
    report = ChainReport()
    walker = _Walker(report, signed or {})
    async for row in connection.cursor(_ROWS, company_id, workflow_id, prefetch=1000):
        walker.add(row)
    walker.finish()
    for timer_workflow, finding in await check_timers(
        connection, walker.deadlines, company_id, workflow_id
    ):
        report.add(timer_workflow, 0, finding)
    for orphan in await connection.fetch(_ORPHANS, company_id, workflow_id):
        report.add(
            orphan["workflow_id"], 0, f"{orphan['rows']} history row(s) of company "
            f"{orphan['company_id']} have no workflow row (workflow deleted or rows moved)",
        )  # fmt: skip
    if report.version_1_heads:
        report.notes.append(
            f"  note: {report.version_1_heads} workflow(s) last changed under hash version 1: "
            "their company and data are covered from their next transition on"
        )
    return report


async def verify_chain(
    pool: asyncpg.Pool, company_id: str | None = None, workflow_id: UUID | None = None
) -> ChainReport:
    """Recompute every hash (of one company, one workflow, or all) and report each break."""
    async with (
        pool.acquire() as connection,
        connection.transaction(isolation="repeatable_read", readonly=True),
    ):
        return await walk_chain(connection, company_id, workflow_id)
