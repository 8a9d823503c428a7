"""Who is calling, and may they: API keys on every route but health and the API documents.

Rules (``services.auth``): no key or a bad one → 401 with ``WWW-Authenticate: Bearer``; a
company the key holds no grant in → 404, worded the same whether or not the company exists; a
grant without the scope a route needs, or a command sent as a party the grant does not hold →
403 naming what the grant allows.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.routing import APIRoute
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from services.api.deps import Pool
from services.api.problems import Problem
from services.auth.principals import Grant, Principal, authenticate

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key, `efk_<id>_<secret>`, from `equityflow keys create` "
    "(or the local admin key `equityflow up` writes to its data folder).",
)
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(bearer)]


async def current_caller(request: Request, credentials: Credentials, pool: Pool) -> Principal:
    """The principal whose API key the request carries."""
    if credentials is None:
        raise Problem(
            401,
            "Not authenticated",
            "send an API key as 'Authorization: Bearer <key>' (equityflow keys create)",
            headers={"WWW-Authenticate": "Bearer"},
        )
    principal = await authenticate(pool, credentials.credentials)
    if principal is None:
        raise Problem(
            401,
            "Invalid API key",
            "the API key is malformed, unknown or revoked",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    _refuse_unknown_query(request)
    return principal


def _refuse_unknown_query(request: Request) -> None:
    """A query parameter the route does not take is refused, not ignored: a misspelt
    ``?forse=true`` must not quietly do the unforced thing. Checked once the caller is known,
    so a request without a key is a 401 whatever its query."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = {param.alias for param in route.dependant.query_params}
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise Problem(
            422,
            "Invalid request",
            f"unknown query parameter(s): {', '.join(unknown)}; this route takes: {takes}",
            errors=[{"field": f"query.{name}", "message": "unknown parameter"} for name in unknown],
        )


Caller = Annotated[Principal, Depends(current_caller)]


def not_found(company_id: str) -> Problem:
    """The same answer for a company that does not exist and one the key may not see."""
    return Problem(
        404,
        "Company not found",
        f"no company {company_id} among those this API key may use: an operator registers it "
        f'with PUT /api/v1/companies/{company_id} {{"terms_id": ...}} (or `equityflow '
        "register-company`); GET /api/v1/companies lists those this key may use",
    )


def company_grant(caller: Principal, company_id: str, scope: str) -> Grant:
    grant = caller.grant(company_id)
    if grant is None:
        raise not_found(company_id)
    if scope not in grant.scopes:
        held = ", ".join(sorted(grant.scopes))
        raise Problem(
            403,
            "Scope missing",
            f"this needs the {scope} scope in {company_id}; this API key has: {held}",
            needed_scope=scope,
            scopes=sorted(grant.scopes),
        )
    return grant


def require_party(grant: Grant, company_id: str, party: str) -> None:
    """A command's ``actor.party`` must be one the key holds in the company."""
    if party not in grant.parties:
        may = ", ".join(sorted(grant.parties)) or "no party"
        raise Problem(
            403,
            "Party not held",
            f"this API key may act in {company_id} as: {may}; not as {party}",
            parties=sorted(grant.parties),
        )


def require_operator(caller: Principal, what: str) -> None:
    if not caller.operator:
        raise Problem(
            403,
            "Operator key needed",
            f"{what} needs an operator key (equityflow keys create --operator)",
        )
