"""Companies and the terms each one registered (used when a command starts a workflow)."""

from __future__ import annotations

import asyncpg


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
