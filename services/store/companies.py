"""Companies and the terms each one registered (used when a command starts a workflow).

Only an administrator registers a company or changes its terms: an operator over HTTP, or
whoever has database access through ``equityflow register-company``. A command never creates
one (the engine refuses a command for an unregistered company). Every registration and change
is an audit entry in the same transaction.

Changing the terms while the company has open workflows is refused unless forced: the running
workflows keep the terms they pinned, so from then on two agreements govern the company's
transfers side by side, and that must be a decision someone took and the audit names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.store import audit
from services.store.db import Connection
from services.store.grants import PARTIES, SCOPES, add_grant

_COLUMNS = "company_id, name, terms_id, created_at"


class CompanyIdTaken(Exception):
    """An operator tried to register an id another company already has."""


class OpenWorkflows(Exception):
    """The terms of a company with running workflows change only when forced."""

    def __init__(self, company_id: str, count: int, current: str) -> None:
        super().__init__(
            f"company {company_id} has {count} open workflow(s) running under {current}; they "
            "keep those terms, so a change means two agreements side by side: send it again "
            "with force to change anyway (recorded in the company's audit entries)"
        )
        self.count, self.current = count, current


@dataclass(frozen=True)
class Registration:
    company_id: str
    terms_id: str
    name: str
    created: bool
    open_workflows: int = 0
    forced: bool = False


async def register_company(
    pool: asyncpg.Pool,
    company_id: str,
    terms_id: str,
    name: str = "",
    *,
    force: bool = False,
    by: str | None = None,
    create_only: bool = False,
    grant_registrant: bool = False,
) -> Registration:
    """Create the company or change its registered terms; running workflows keep theirs.

    ``by`` is the principal acting (None: the command line). ``create_only`` refuses an id
    already taken (an operator registering a new company); ``grant_registrant`` gives ``by``
    every party and scope in the company it has just created.
    """
    async with pool.acquire() as c, c.transaction():
        row = await c.fetchrow(
            "SELECT terms_id, name FROM companies WHERE company_id = $1 FOR UPDATE", company_id
        )
        if row is None:
            return await _create(c, company_id, terms_id, name, by, grant_registrant)
        if create_only:
            raise CompanyIdTaken(f"company id {company_id} is taken: choose another")
        return await _change(c, company_id, terms_id, name, row, force, by)


async def _create(
    c: Connection,
    company_id: str,
    terms_id: str,
    name: str,
    by: str | None,
    grant_registrant: bool,
) -> Registration:
    created = await c.fetchval(
        "INSERT INTO companies (company_id, terms_id, name) VALUES ($1, $2, $3) "
        "ON CONFLICT (company_id) DO NOTHING RETURNING true",
        company_id,
        terms_id,
        name,
    )
    if not created:  # registered a moment ago by someone else
        raise CompanyIdTaken(f"company id {company_id} is taken: choose another")
    if grant_registrant and by is not None:
        await add_grant(c, by, company_id, list(PARTIES), list(SCOPES))
    await audit.record(c, company_id, "registered", by, {"terms_id": terms_id, "name": name})
    return Registration(company_id, terms_id, name, created=True)


async def _change(
    c: Connection,
    company_id: str,
    terms_id: str,
    name: str,
    row: asyncpg.Record,
    force: bool,
    by: str | None,
) -> Registration:
    if (row["terms_id"], row["name"]) == (terms_id, name):
        return Registration(company_id, terms_id, name, created=False)
    open_workflows = 0
    if row["terms_id"] != terms_id:
        open_workflows = await c.fetchval(
            "SELECT count(*) FROM workflows WHERE company_id = $1 AND NOT final", company_id
        )
        if open_workflows and not force:
            raise OpenWorkflows(company_id, open_workflows, row["terms_id"])
    await c.execute(
        "UPDATE companies SET terms_id = $2, name = $3 WHERE company_id = $1",
        company_id,
        terms_id,
        name,
    )
    forced = bool(open_workflows)
    action = "terms_changed" if row["terms_id"] != terms_id else "renamed"
    detail = {
        "terms_from": row["terms_id"],
        "terms_to": terms_id,
        "name_from": row["name"],
        "name_to": name,
        "open_workflows": open_workflows,
        "forced": forced,
    }
    await audit.record(c, company_id, action, by, detail)
    return Registration(company_id, terms_id, name, False, open_workflows, forced)


async def registered_terms(connection: Connection, company_id: str) -> str | None:
    """The company's terms, read under a share lock: a terms change waits for a workflow being
    started to commit (and then counts it as open), and such a start waits for the change."""
    return await connection.fetchval(  # type: ignore[no-any-return]
        "SELECT terms_id FROM companies WHERE company_id = $1 FOR SHARE", company_id
    )


async def company_exists(db: asyncpg.Pool | Connection, company_id: str) -> bool:
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
    pool: asyncpg.Pool, *, only: list[str], after: str | None = None, limit: int = 100
) -> list[dict[str, Any]]:
    """Registered companies among ``only`` by id, a page at a time (the last id as ``after``)."""
    rows = await pool.fetch(
        f"SELECT {_COLUMNS} FROM companies WHERE company_id = ANY($3::text[]) "
        "AND company_id > $1 ORDER BY company_id LIMIT $2",
        after or "",
        limit,
        only,
    )
    return [dict(r) for r in rows]
