"""Reading a company's workflows: each with its deadlines, history and reconciliation items,
their charts as Mermaid text, and the pending deadlines a page at a time. A workflow of another
company is simply not found."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query
from fastapi.responses import PlainTextResponse

from services.api.access import Caller, company_grant
from services.api.companies import CompanyId
from services.api.deps import Pool
from services.api.docs import problems
from services.api.problems import Problem
from services.auth.principals import Principal
from services.store import queries, reconciliation
from workflows import registry
from workflows.kernel import WorkflowKind

WorkflowType = Annotated[
    str | None, Query(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
]
PartyName = Literal["owner", "company", "assignee", "board", "escrow_agent", "transferee"]
# Reads of one company: the key must hold it (else 404) with the read scope (else 403).
_READ = problems(401, 403, 404, 422)

router = APIRouter()


@router.get("/api/v1/companies/{company_id}/workflows", responses=_READ)
async def list_workflows(
    company_id: CompanyId, who: Caller, pool: Pool, workflow_type: WorkflowType = None
) -> list[Any]:
    company_grant(who, company_id, "read")
    return await queries.list_workflows(pool, company_id, workflow_type=workflow_type)


@router.get("/api/v1/companies/{company_id}/workflows/{workflow_id}", responses=_READ)
async def get_workflow(
    company_id: CompanyId, workflow_id: UUID, who: Caller, pool: Pool
) -> dict[str, Any]:
    found = await _readable_workflow(who, pool, company_id, workflow_id)
    # Facts a timely act entered later made void, for the company to reconcile.
    return {**found, "reconciliation": reconciliation.items_of(found["data"])}


@router.get("/api/v1/companies/{company_id}/reconciliation", responses=_READ)
async def open_reconciliation_items(
    company_id: CompanyId,
    who: Caller,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> dict[str, Any]:
    """The company's open reconciliation items, oldest first (``read`` scope): each names
    its workflow, the void fact (the act and when it was entered and took effect), the
    clause that voids it and the act that contradicts it."""
    company_grant(who, company_id, "read")
    return {"items": await reconciliation.open_items(pool, company_id, limit=limit)}


@router.get(
    "/api/v1/workflow-types/{workflow_type}/diagram",
    response_class=PlainTextResponse,
    responses=problems(401, 404),
)
async def diagram(workflow_type: str, _: Caller) -> str:
    """The kind's chart as Mermaid text (``stateDiagram-v2``); any valid key reads it."""
    return _kind(workflow_type).CHART.mermaid()


@router.get(
    "/api/v1/companies/{company_id}/workflows/{workflow_id}/diagram",
    response_class=PlainTextResponse,
    responses=_READ,
)
async def workflow_diagram(
    company_id: CompanyId, workflow_id: UUID, who: Caller, pool: Pool
) -> str:
    """The chart of the workflow's kind as Mermaid text, its current state marked
    (``read`` scope)."""
    found = await _readable_workflow(who, pool, company_id, workflow_id)
    return _kind(found["workflow_type"]).CHART.mermaid(current=found["state"])


@router.get("/api/v1/companies/{company_id}/deadlines", responses=_READ)
async def pending_deadlines(
    company_id: CompanyId,
    who: Caller,
    pool: Pool,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    party: PartyName | None = None,
    after_due: Annotated[datetime | None, Query(description="keyset: last due_at")] = None,
    after_id: Annotated[UUID | None, Query(description="keyset: last timer_id")] = None,
) -> dict[str, Any]:
    company_grant(who, company_id, "read")
    if (after_due is None) != (after_id is None):
        # One half of the keyset alone would silently restart from the first page.
        raise Problem(422, "Invalid request", "after_due and after_id go together")
    after = (after_due, after_id) if after_due and after_id else None
    rows = await queries.list_pending_deadlines(
        pool, company_id, after=after, limit=limit, party=party
    )
    nxt = None
    if len(rows) == limit:
        last = rows[-1]
        keyset = {"after_due": last["due_at"].isoformat(), "after_id": str(last["timer_id"])}
        query = {"limit": limit, **({"party": party} if party else {}), **keyset}
        nxt = {**keyset, "href": f"/api/v1/companies/{company_id}/deadlines?{urlencode(query)}"}
    return {"deadlines": rows, "next": nxt}


async def _readable_workflow(
    who: Principal, pool: asyncpg.Pool, company_id: str, workflow_id: UUID
) -> dict[str, Any]:
    """The company's workflow, for a key holding the company with the ``read`` scope; a workflow
    of another company is simply not found (404)."""
    company_grant(who, company_id, "read")
    found = await queries.get_workflow(pool, company_id, workflow_id)
    if found is None:
        raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
    return found


def _kind(workflow_type: str) -> WorkflowKind:
    try:
        return registry.kind(workflow_type)
    except KeyError as e:
        raise Problem(404, "Unknown workflow type", str(e.args[0])) from e
