"""Companies and the terms each one registered (used when a command starts a workflow)."""

from __future__ import annotations

from typing import Any

import asyncpg

_COLUMNS = "company_id, name, terms_id, created_at"


async def register_company(
    pool: asyncpg.Pool, company_id: str, terms_id: str, name: str = ""
) -> None:
    """Create the company or change its registered terms; running workflows keep theirs."""
    await pool.execute(
        "INSERT INTO companies (company_id, terms_id, name) VALUES ($1, $2, $3) "
        "ON CONFLICT (company_id) DO UPDATE SET terms_id = EXCLUDED.terms_id, name = EXCLUDED.name",
        company_id,
        terms_id,
        name,
    )


async def registered_terms(connection: asyncpg.Connection, company_id: str) -> str | None:
    return await connection.fetchval(  # type: ignore[no-any-return]
        "SELECT terms_id FROM companies WHERE company_id = $1", company_id
    )


async def company_exists(db: asyncpg.Pool | asyncpg.Connection, company_id: str) -> bool:
    """Registered, or has workflows (started by commands that named their terms)."""
    return bool(
        await db.fetchval(
            "SELECT EXISTS (SELECT 1 FROM companies WHERE company_id = $1) "
            "OR EXISTS (SELECT 1 FROM workflows WHERE company_id = $1)",
            company_id,
        )
    )


async def get_company(pool: asyncpg.Pool, company_id: str) -> dict[str, Any] | None:
    """The company as registered; one that only has workflows shows ``registered: false``."""
    row = await pool.fetchrow(
        f"SELECT {_COLUMNS}, true AS registered FROM companies WHERE company_id = $1", company_id
    )
    if row is not None:
        return dict(row)
    if await company_exists(pool, company_id):
        return {
            "company_id": company_id, "name": "", "terms_id": None, "created_at": None,
            "registered": False,
        }  # fmt: skip
    return None


async def list_companies(
    pool: asyncpg.Pool, *, after: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Registered companies by id, a page at a time (pass the last id as ``after``)."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM companies WHERE company_id > $1 ORDER BY company_id LIMIT $2",
        after or "",
        limit,
    )
    return [dict(r) for r in rows]
