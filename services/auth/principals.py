"""Principals and their grants in PostgreSQL: create, find by API key, list, revoke.

Rules in ``services.auth`` (the package docstring). Creating and revoking a company's key is
recorded in that company's audit entries, so who could act for it is never a matter of memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.auth import keys
from services.store import audit
from services.store.db import Connection
from services.store.grants import add_grant


class UnknownCompany(LookupError):
    """A grant can only name a registered company."""


@dataclass(frozen=True)
class Grant:
    company_id: str | None  # None: the installation (an operator)
    parties: frozenset[str]
    scopes: frozenset[str]


@dataclass(frozen=True)
class Principal:
    principal_id: str
    label: str
    grants: tuple[Grant, ...]

    def grant(self, company_id: str) -> Grant | None:
        return next((g for g in self.grants if g.company_id == company_id), None)

    @property
    def operator(self) -> bool:
        return any(g.company_id is None for g in self.grants)


_FIND = (
    "SELECT p.principal_id, p.label, p.secret_sha256, g.company_id, g.parties, g.scopes "
    "FROM principals p LEFT JOIN grants g USING (principal_id) "
    "WHERE p.principal_id = $1 AND p.kind = 'api_key' AND p.revoked_at IS NULL"
)


async def authenticate(pool: asyncpg.Pool, token: str) -> Principal | None:
    """The principal an API key belongs to; None for a malformed, unknown or revoked key."""
    parsed = keys.parse(token)
    if parsed is None:
        return None
    key_id, secret = parsed
    rows = await pool.fetch(_FIND, key_id)
    if not rows or not keys.matches(secret, rows[0]["secret_sha256"]):
        return None
    grants = tuple(
        Grant(r["company_id"], frozenset(r["parties"]), frozenset(r["scopes"]))
        for r in rows
        if r["scopes"] is not None
    )
    return Principal(key_id, rows[0]["label"], grants)


async def create_key(
    pool: asyncpg.Pool,
    *,
    company_id: str | None,
    parties: list[str],
    scopes: list[str],
    label: str = "",
) -> keys.NewKey:
    """A new API key with one grant: in ``company_id``, or the installation's when None (an
    operator's, which holds the admin scope and no party)."""
    if company_id is None:
        parties, scopes = [], ["admin"]
    key = keys.new_key()
    async with pool.acquire() as c, c.transaction():
        if company_id is not None and not await _registered(c, company_id):
            raise UnknownCompany(
                f"company {company_id} is not registered: register it first "
                "(equityflow register-company)"
            )
        await c.execute(
            "INSERT INTO principals (principal_id, kind, label, secret_sha256) "
            "VALUES ($1, 'api_key', $2, $3)",
            key.key_id,
            label,
            keys.digest(key.secret),
        )
        await add_grant(c, key.key_id, company_id, parties, scopes)
        if company_id is not None:
            detail = {"key_id": key.key_id, "label": label, "parties": parties, "scopes": scopes}
            await audit.record(c, company_id, "key_created", None, detail)
    return key


async def list_keys(pool: asyncpg.Pool, company_id: str | None = None) -> list[dict[str, Any]]:
    """Every API key (or those with a grant in ``company_id``) with its grants; no secrets."""
    rows = await pool.fetch(
        "SELECT p.principal_id, p.label, p.created_at, p.revoked_at, "
        "coalesce(json_agg(json_build_object('company_id', g.company_id, 'parties', g.parties, "
        "'scopes', g.scopes) ORDER BY g.company_id NULLS FIRST) "
        "FILTER (WHERE g.principal_id IS NOT NULL), '[]') AS grants "
        "FROM principals p LEFT JOIN grants g USING (principal_id) WHERE p.kind = 'api_key' "
        "AND ($1::text IS NULL OR EXISTS (SELECT 1 FROM grants h "
        "WHERE h.principal_id = p.principal_id AND h.company_id = $1)) "
        "GROUP BY p.principal_id ORDER BY p.created_at, p.principal_id",
        company_id,
    )
    return [dict(r) for r in rows]


async def revoke_key(pool: asyncpg.Pool, key_id: str) -> bool:
    """Revoke an API key at once; False if there is no such key or it was revoked already."""
    async with pool.acquire() as c, c.transaction():
        revoked = await c.fetchval(
            "UPDATE principals SET revoked_at = now() WHERE principal_id = $1 "
            "AND kind = 'api_key' AND revoked_at IS NULL RETURNING true",
            key_id,
        )
        if not revoked:
            return False
        for company_id in await c.fetch(
            "SELECT company_id FROM grants WHERE principal_id = $1 AND company_id IS NOT NULL",
            key_id,
        ):
            await audit.record(c, company_id["company_id"], "key_revoked", None, {"key_id": key_id})
    return True


async def _registered(c: Connection, company_id: str) -> bool:
    found = await c.fetchval("SELECT true FROM companies WHERE company_id = $1", company_id)
    return bool(found)
