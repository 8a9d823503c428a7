"""What the engine reads for a batch, under the locks it takes: the load step of the pipeline.

Locks first, in one statement: a transaction-scoped advisory lock on each workflow id of the
batch, taken in workflow-id order. Every engine transaction takes them in that order, so two
batches that share workflows wait for each other and never deadlock, and whichever commits
first is seen whole by the other: the read below is a new statement, with a new snapshot, so
it sees what was committed before the lock was granted, including a workflow that did not
exist when the batch began. Only the engine writes workflow rows, so the advisory lock is
the workflow's lock; no row lock is taken on ``workflows``.

Then three reads, in one statement: the workflows, the timers a decision may cancel or a timer
message names (locked: the deadlines service holds a timer's row while it publishes the timer's
message, and the engine must see it fired, not pending), and which messages the inbox already
holds, and the terms the batch's companies are registered under.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any
from uuid import UUID

import asyncpg

from services.store.db import Connection

_LOCK = """
SELECT count(pg_advisory_xact_lock(hashtextextended(s.id::text, 0)))
FROM (SELECT DISTINCT id FROM unnest($1::uuid[]) AS id ORDER BY id) AS s
"""
# The four reads are one statement, so one round trip (and one snapshot, taken after the
# locks). Each part's rows are tagged (``part``: 1 workflows, 2 timers, 3 inbox, 4 companies)
# and fill only their own columns; the columns that two parts share (the workflow, its
# company and type, the terms id) are one.
#
# The pinned terms are named by their digest: the workflow row's (every workflow started since
# terms are stored by digest), else the one its first history row records (its hash covers
# it); only a workflow with neither (rows written under the first hash rule) has its terms, a
# TOASTed document of some 18 kB, read and hashed here. COALESCE evaluates its arguments in
# order and stops at the first not null, so the history is read for older rows only.
#
# The timers and the inbox are probed by index, key by key: each subquery below is LATERAL
# with a row lock or a LIMIT, so PostgreSQL keeps it a lookup per key and never turns it into a
# scan of the whole table (which a plan made while a table was small, and kept for the
# connection's prepared statement, would otherwise do on every batch however large it grew).
# The timers come out in timer-id order, as the decisions read them.
_LOAD = """
SELECT 1 AS part, w.workflow_id, w.company_id, w.workflow_type, w.terms_id,
       COALESCE(w.terms_digest,
                (SELECT h.terms_digest FROM history h
                 WHERE h.workflow_id = w.workflow_id AND h.seq = 1),
                md5(w.terms::text)) AS terms_digest,
       w.state, w.data, w.version, w.final, w.head_hash, w.updated_at,
       NULL::uuid AS timer_id, NULL::text AS name, NULL::timestamptz AS due_at,
       NULL::text AS party, NULL::text AS action, NULL::text AS clause,
       NULL::text AS derivation, NULL::json AS deadline, NULL::text AS status,
       NULL::text AS kind, NULL::text AS message_id
FROM workflows w
WHERE w.workflow_id = ANY($1::uuid[])
UNION ALL
SELECT 2, t.workflow_id, t.company_id, t.workflow_type, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, t.timer_id, t.name, t.due_at, t.party, t.action, t.clause, t.derivation,
       t.deadline, t.status, NULL, NULL
FROM unnest($1::uuid[]) AS k(workflow_id) CROSS JOIN LATERAL (
  SELECT * FROM timers
  WHERE timers.workflow_id = k.workflow_id
    AND (timers.status IN ('pending', 'fired') OR timers.timer_id = ANY($2::uuid[]))
  FOR UPDATE
) AS t
UNION ALL
SELECT 3, NULL, k.company_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, k.kind, k.message_id
FROM unnest($3::text[], $4::text[], $5::text[]) AS k(company_id, kind, message_id)
CROSS JOIN LATERAL (
  SELECT FROM inbox i
  WHERE i.company_id = k.company_id AND i.kind = k.kind AND i.message_id = k.message_id
  LIMIT 1
) AS recorded
UNION ALL
SELECT 4, NULL, c.company_id, NULL, c.terms_id, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM companies c WHERE c.company_id = ANY($6::text[])
ORDER BY part, timer_id
"""
_TERMS = """
SELECT COALESCE(w.terms, (SELECT d.terms FROM terms_documents d WHERE d.digest = w.terms_digest))
FROM workflows w WHERE w.workflow_id = $1
"""

InboxKey = tuple[str, str, str]  # (company id, message kind, message id)


@dataclass(frozen=True)
class Loaded:
    workflows: dict[UUID, asyncpg.Record]
    timers: list[asyncpg.Record]
    recorded: set[InboxKey]
    registered: dict[str, str]  # company id → the terms id it is registered under


_as_int = attrgetter("int")


async def lock_and_load(
    connection: Connection,
    workflow_ids: Sequence[UUID],
    timer_ids: Sequence[UUID],
    inbox_keys: Sequence[InboxKey],
    companies: Sequence[str] = (),
    also_lock: Sequence[UUID] = (),
) -> Loaded:
    """Lock the workflows and ``also_lock`` (the register view's facts: a grant, a plan's
    reserve) in one id order, then read the workflows, their timers, the inbox and the terms
    each of ``companies`` that is registered is registered under."""
    # Sorted by the ids' integers: the order of the UUIDs themselves, without a Python-level
    # comparison of two UUID objects per step.
    ids = sorted(set(workflow_ids), key=_as_int)
    await connection.fetchval(_LOCK, sorted(set(ids) | set(also_lock), key=_as_int))
    rows = await connection.fetch(
        _LOAD,
        ids,
        list(timer_ids),
        [k[0] for k in inbox_keys],
        [k[1] for k in inbox_keys],
        [k[2] for k in inbox_keys],
        sorted(set(companies)),
    )
    return Loaded(
        workflows={r["workflow_id"]: r for r in rows if r["part"] == 1},
        timers=[r for r in rows if r["part"] == 2],
        recorded={(r["company_id"], r["kind"], r["message_id"]) for r in rows if r["part"] == 3},
        registered={r["company_id"]: r["terms_id"] for r in rows if r["part"] == 4},
    )


async def pinned_terms(connection: Connection, workflow_id: UUID) -> Any:
    """The terms document a workflow pinned when it started."""
    return await connection.fetchval(_TERMS, workflow_id)
