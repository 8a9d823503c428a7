"""A company's audit entries: what its administrators did, append-only (a trigger refuses
UPDATE, DELETE and TRUNCATE)."""

from __future__ import annotations

from typing import Any

import asyncpg

from services.store.db import Connection


async def record(
    c: Connection,
    company_id: str,
    action: str,
    principal_id: str | None,
    detail: dict[str, Any],
) -> None:
    """Record an entry in the caller's transaction: it commits with the change it describes."""
    await c.execute(
        "INSERT INTO company_audit (company_id, action, principal_id, detail) "
        "VALUES ($1, $2, $3, $4)",
        company_id,
        action,
        principal_id,
        detail,
    )


async def entries(pool: asyncpg.Pool, company_id: str) -> list[dict[str, Any]]:
    rows = await pool.fetch(
        "SELECT id, action, principal_id, at, detail FROM company_audit "
        "WHERE company_id = $1 ORDER BY id",
        company_id,
    )
    return [dict(r) for r in rows]
