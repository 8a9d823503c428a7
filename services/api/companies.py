"""Registering a company and changing its terms (``admin``), and reading its audit entries.

An operator key registers a company id nobody has taken and receives every party and scope in
it; a key with the ``admin`` scope in a company changes its terms. A change while the company
has open workflows is refused (409) unless sent with ``?force=true``; every registration and
change is an audit entry, readable at ``GET /api/v1/companies/{company_id}/audit``.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from services.api.access import Caller, company_grant, not_found
from services.api.deps import Catalog, Pool
from services.api.docs import problems
from services.api.problems import Problem
from services.store import audit, companies
from services.terms_catalog import UnknownTerms

# The same pattern as a message's company_id: a company registered here can receive commands.
CompanyId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms_id: str = Field(max_length=100, description="a shipped preset or a company terms file id")
    # PostgreSQL text cannot hold NUL; no control character belongs in a name.
    name: str = Field(default="", max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")


router = APIRouter()


@router.put("/api/v1/companies/{company_id}", responses=problems(400, 401, 403, 404, 409, 422))
async def register_company(
    company_id: CompanyId,
    body: CompanyIn,
    who: Caller,
    pool: Pool,
    catalog: Catalog,
    force: Annotated[
        bool, Query(description="change the terms even though workflows are open")
    ] = False,
) -> dict[str, Any]:
    """Register a company (operator key) or change its terms (``admin`` scope)."""
    new = who.grant(company_id) is None
    if new and not who.operator:
        raise not_found(company_id)
    if not new:
        company_grant(who, company_id, "admin")
    try:
        catalog.get(body.terms_id)
    except UnknownTerms as e:
        raise Problem(422, "Unknown terms", str(e), known_terms=e.known) from e
    try:
        done = await companies.register_company(
            pool,
            company_id,
            body.terms_id,
            body.name,
            force=force,
            by=who.principal_id,
            create_only=new,
            grant_registrant=new,
        )
    except companies.CompanyIdTaken as e:
        raise Problem(409, "Company id taken", str(e), code="company_id_taken") from e
    except companies.OpenWorkflows as e:
        raise Problem(
            409, "Open workflows", str(e), code="open_workflows", open_workflows=e.count
        ) from e
    return {
        "company_id": company_id,
        "terms_id": body.terms_id,
        "name": body.name,
        "created": done.created,
        "open_workflows": done.open_workflows,
        "forced": done.forced,
    }


@router.get("/api/v1/companies", responses=problems(401, 422))
async def list_companies(
    who: Caller,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    # A company id's own shape, so a byte no id can hold (NUL) is a 422, not a database error.
    after: Annotated[
        str | None,
        Query(
            description="keyset: the last company_id",
            max_length=100,
            pattern=r"^[A-Za-z0-9_.-]+$",
        ),
    ] = None,
) -> dict[str, Any]:
    """The companies this API key holds a ``read`` grant in, by id, a page at a time."""
    readable = sorted(
        g.company_id for g in who.grants if g.company_id is not None and "read" in g.scopes
    )
    rows = await companies.list_companies(pool, only=readable, after=after, limit=limit)
    nxt = None
    if len(rows) == limit:
        last = rows[-1]["company_id"]
        nxt = {
            "after": last,
            "href": f"/api/v1/companies?{urlencode({'limit': limit, 'after': last})}",
        }
    return {"companies": rows, "next": nxt}


@router.get("/api/v1/companies/{company_id}", responses=problems(401, 403, 404, 422))
async def get_company(company_id: CompanyId, who: Caller, pool: Pool) -> dict[str, Any]:
    """One company as registered (``read`` scope)."""
    company_grant(who, company_id, "read")
    found = await companies.get_company(pool, company_id)
    if found is None:
        raise not_found(company_id)
    return found


@router.get("/api/v1/companies/{company_id}/audit", responses=problems(401, 403, 404, 422))
async def company_audit(company_id: CompanyId, who: Caller, pool: Pool) -> list[dict[str, Any]]:
    """What administrators did to the company: registration, terms changes, keys."""
    company_grant(who, company_id, "read")
    return await audit.entries(pool, company_id)
