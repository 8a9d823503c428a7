"""The read side. Every query names its company: two companies never see each other's data."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

_WORKFLOW_COLUMNS = (
    "workflow_id, company_id, workflow_type, terms_id, state, data, version, final, "
    "created_at, updated_at"
)
_DEADLINE_COLUMNS = (
    "timer_id, workflow_id, workflow_type, name, due_at, party, action, clause, derivation, "
    "deadline"
)


# A workflow's pinned terms: in its row (started before terms were stored by digest), else the
# document its digest names.
_PINNED_TERMS = (
    "COALESCE(terms, (SELECT d.terms FROM terms_documents d WHERE d.digest = terms_digest))"
)


async def get_workflow(
    pool: asyncpg.Pool, company_id: str, workflow_id: UUID
) -> dict[str, Any] | None:
    """The workflow with its pinned terms, pending deadlines and history (one snapshot)."""
    async with pool.acquire() as c, c.transaction(isolation="repeatable_read", readonly=True):
        row = await c.fetchrow(
            f"SELECT {_WORKFLOW_COLUMNS}, {_PINNED_TERMS} AS terms FROM workflows "
            "WHERE company_id = $1 AND workflow_id = $2",
            company_id,
            workflow_id,
        )
        if row is None:
            return None
        deadlines = await c.fetch(
            f"SELECT {_DEADLINE_COLUMNS} FROM timers "
            "WHERE company_id = $1 AND workflow_id = $2 AND status = 'pending' "
            "ORDER BY due_at, timer_id",
            company_id,
            workflow_id,
        )
        history = await c.fetch(
            "SELECT seq, message_id, message, state_from, state_to, events, applied_at, "
            "prev_hash, hash FROM history WHERE company_id = $1 AND workflow_id = $2 ORDER BY seq",
            company_id,
            workflow_id,
        )
    return {
        **dict(row),
        "deadlines": [dict(d) for d in deadlines],
        "history": [dict(h) for h in history],
    }


async def list_workflows(
    pool: asyncpg.Pool, company_id: str, *, workflow_type: str | None = None, limit: int = 50
) -> list[dict[str, Any]]:
    """The company's workflows, most recently changed first."""
    rows = await pool.fetch(
        f"SELECT {_WORKFLOW_COLUMNS} FROM workflows "
        "WHERE company_id = $1 AND ($2::text IS NULL OR workflow_type = $2) "
        "ORDER BY updated_at DESC, workflow_id LIMIT $3",
        company_id,
        workflow_type,
        limit,
    )
    return [dict(r) for r in rows]


async def list_pending_deadlines(
    pool: asyncpg.Pool,
    company_id: str,
    *,
    after: tuple[datetime, UUID] | None = None,
    limit: int = 50,
    party: str | None = None,
) -> list[dict[str, Any]]:
    """Pending deadlines by due time, a page at a time: pass the last row's (due_at, timer_id).

    Keyset paging on the partial indexes of pending timers (``timers_company_due``, and
    ``timers_company_party_due`` for one party): each page costs the same
    however deep it is and however many deadlines are pending.
    """
    sql, args = pending_deadlines_query(company_id, after=after, limit=limit, party=party)
    rows = await pool.fetch(sql, *args)
    return [dict(r) for r in rows]


def pending_deadlines_query(
    company_id: str, *, after: tuple[datetime, UUID] | None, limit: int, party: str | None
) -> tuple[str, list[Any]]:
    # One statement text per filter combination: a prepared statement with "$2 IS NULL OR ..."
    # gets a generic plan that cannot start the index scan at the keyset position.
    conditions = ["company_id = $1", "status = 'pending'"]
    args: list[Any] = [company_id]
    if after is not None:
        args.extend(after)
        conditions.append(f"(due_at, timer_id) > (${len(args) - 1}, ${len(args)})")
    if party is not None:
        args.append(party)
        conditions.append(f"party = ${len(args)}")
    args.append(limit)
    sql = (
        f"SELECT {_DEADLINE_COLUMNS} FROM timers WHERE {' AND '.join(conditions)} "
        f"ORDER BY due_at, timer_id LIMIT ${len(args)}"
    )
    return sql, args
