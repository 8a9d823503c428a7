"""The HTTP API: send a command, read a workflow with its deadlines and history, list pending
deadlines, register companies, and (demo/test mode) advance the simulated clock.

Every route but ``/api/v1/health``, ``/api/v1/ready`` and the API documents (``/openapi.json``,
``/docs``, ``/asyncapi.json``) needs an API key (``services.api.access``): a key sees only the
companies it holds a grant in, with its scopes, and sends commands only as its parties.

A command sent over HTTP takes the same path as one over AMQP (``services.engine.apply``, a
batch of one): the same inbox, the same refusals, and requests for one workflow applied in the
order they arrived. Every route is scoped by company: a workflow of another company is simply
not found.

A refusal answers with a problem document naming the rule, the reason and the refusal code:
404 when the workflow is not the company's, 422 when the command itself is malformed (an unknown
command, a payload that breaks its command's model, unknown terms or workflow type), 409 when
the rules of the terms refuse it in the workflow's state (``workflows.kernel.refusal_status``).
A message id sent again gets the answer it got the first time, with no second effect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlencode
from uuid import UUID

from fastapi import FastAPI, Query
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import PlainTextResponse
from pydantic import Field, TypeAdapter, ValidationError
from starlette.exceptions import HTTPException

from services import engine
from services.api.access import Caller, company_grant, require_party
from services.api.body_limit import BodyLimit
from services.api.clock import add_clock_routes
from services.api.companies import CompanyId, add_company_routes
from services.api.docs import problems, with_command_schema, with_problem_schema
from services.api.problems import Problem, on_http_error, on_invalid_request, on_problem
from services.api.registers import add_register_routes
from services.engine.turns import InArrivalOrder
from services.readiness import Readiness
from services.runtime import Runtime
from services.store import queries, reconciliation
from services.terms_catalog import UnknownTerms
from workflows import registry
from workflows.command_schemas import command_union
from workflows.kernel import WorkflowKind, refusal_status
from workflows.messages import CommandMessage

WorkflowType = Annotated[
    str | None, Query(min_length=1, max_length=50, pattern=r"^[a-z][a-z0-9_]*$")
]
# One command of any kind with its payload model, discriminated on ``command``; the route reads
# the body as a plain object first so the key, NUL and envelope checks answer before it.
COMMAND_BODY: TypeAdapter[Any] = TypeAdapter(
    Annotated[command_union(company_in_path=True), Field(discriminator="command")]
)
# Refusals answered as not found, by title; which codes they are is ``refusal_status``'s.
_NOT_FOUND = {"unregistered_company": "Company not found"}
PartyName = Literal["owner", "company", "assignee", "board", "escrow_agent", "transferee"]
# Reads of one company: the key must hold it (else 404) with the read scope (else 403).
_READ = problems(401, 403, 404, 422)


def create_app(
    runtime: Runtime,
    *,
    asyncapi: dict[str, Any] | None = None,
    readiness: Readiness | None = None,
) -> FastAPI:
    app = FastAPI(
        title="equityflow",
        version="0.1.0",
        description="Legal workflows of private-company equity as persisted state machines. "
        "Every route but health and the API documents needs `Authorization: Bearer <API key>`.",
        redoc_url=None,
        swagger_ui_oauth2_redirect_url=None,
    )
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.max_message_bytes)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    app.add_exception_handler(HTTPException, on_http_error)
    pool, clock, catalog = runtime.pool, runtime.clock, runtime.catalog
    turns = InArrivalOrder()
    app.state.pool = pool  # for the API key check (services.api.access)

    ready = readiness or Readiness(pool)

    @app.get("/api/v1/health", responses=problems(503))
    async def health() -> dict[str, Any]:
        """Open to all: whether the API reaches its database (503 naming what is down)."""
        await _connected(ready)
        return {"status": "ok", "now": (await clock.now()).isoformat()}

    @app.get("/api/v1/ready", responses=problems(503))
    async def readiness_check() -> dict[str, Any]:
        """Open to all: 200 while every connection this process needs answers; 503 naming
        what is down."""
        return {"status": "ready", "connections": await _connected(ready)}

    @app.get("/api/v1/terms", responses=problems(401))
    async def list_terms(_: Caller) -> list[str]:
        return catalog.ids()

    @app.get("/api/v1/terms/{terms_id}", responses=problems(401, 404))
    async def get_terms(terms_id: str, _: Caller) -> dict[str, Any]:
        try:
            return catalog.raw(terms_id)
        except UnknownTerms as e:
            raise Problem(404, "Unknown terms", str(e)) from e

    add_company_routes(app, runtime)
    add_register_routes(app, runtime)

    @app.post(
        "/api/v1/companies/{company_id}/commands", responses=problems(400, 401, 403, 404, 409, 422)
    )
    async def send_command(
        company_id: CompanyId, body: dict[str, Any], who: Caller
    ) -> dict[str, Any]:
        """Send a command (``command`` scope), acting as one of the key's parties."""
        grant = company_grant(who, company_id, "command")
        body = {**body, "company_id": body.get("company_id", company_id)}
        if body["company_id"] != company_id:
            raise Problem(422, "Company mismatch", "the body names another company than the path")
        try:
            message = CommandMessage.model_validate(body)
        except ValidationError as e:
            errors = [
                {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
                for err in e.errors()
            ]
            detail = "; ".join(f"{err['field']}: {err['message']}" for err in errors)
            raise Problem(422, "Invalid command", detail, errors=errors) from e
        if message.caused_by is not None:
            raise Problem(
                422, "Invalid command",
                "caused_by: only the engine sends a command caused by another workflow",
            )  # fmt: skip
        try:
            # Then the contract of the command named: its payload model (the union OpenAPI shows).
            COMMAND_BODY.validate_python(body)
        except ValidationError as e:
            raise RequestValidationError(e.errors(include_url=False), body=body) from e
        require_party(grant, company_id, message.actor.party.value)
        # Requests for one workflow apply in the order they arrived, one after the other.
        async with turns.turn(message.workflow_id):
            outcome = await engine.apply(pool, message, clock, catalog)
        result = outcome_dict(outcome)
        # A duplicate of a refused command carries its refusal: a retry gets the same answer.
        if outcome.refusal is not None:
            raise _refusal_problem(outcome.refusal, result)
        return result

    @app.get("/api/v1/companies/{company_id}/workflows", responses=_READ)
    async def list_workflows(
        company_id: CompanyId, who: Caller, workflow_type: WorkflowType = None
    ) -> list[Any]:
        company_grant(who, company_id, "read")
        return await queries.list_workflows(pool, company_id, workflow_type=workflow_type)

    @app.get("/api/v1/companies/{company_id}/workflows/{workflow_id}", responses=_READ)
    async def get_workflow(company_id: CompanyId, workflow_id: UUID, who: Caller) -> dict[str, Any]:
        company_grant(who, company_id, "read")
        found = await queries.get_workflow(pool, company_id, workflow_id)
        if found is None:
            raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
        # Facts a timely act entered later made void, for the company to reconcile.
        return {**found, "reconciliation": reconciliation.items_of(found["data"])}

    @app.get("/api/v1/companies/{company_id}/reconciliation", responses=_READ)
    async def open_reconciliation_items(
        company_id: CompanyId,
        who: Caller,
        limit: Annotated[int, Query(ge=1, le=500)] = 200,
    ) -> dict[str, Any]:
        """The company's open reconciliation items, oldest first (``read`` scope): each names
        its workflow, the void fact (the act and when it was entered and took effect), the
        clause that voids it and the act that contradicts it."""
        company_grant(who, company_id, "read")
        return {"items": await reconciliation.open_items(pool, company_id, limit=limit)}

    @app.get(
        "/api/v1/workflow-types/{workflow_type}/diagram",
        response_class=PlainTextResponse,
        responses=problems(401, 404),
    )
    async def diagram(workflow_type: str, _: Caller) -> str:
        """The kind's chart as Mermaid text (``stateDiagram-v2``); any valid key reads it."""
        return _kind(workflow_type).CHART.mermaid()

    @app.get(
        "/api/v1/companies/{company_id}/workflows/{workflow_id}/diagram",
        response_class=PlainTextResponse,
        responses=_READ,
    )
    async def workflow_diagram(company_id: CompanyId, workflow_id: UUID, who: Caller) -> str:
        """The chart of the workflow's kind as Mermaid text, its current state marked
        (``read`` scope)."""
        company_grant(who, company_id, "read")
        found = await queries.get_workflow(pool, company_id, workflow_id)
        if found is None:
            raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
        return _kind(found["workflow_type"]).CHART.mermaid(current=found["state"])

    @app.get("/api/v1/companies/{company_id}/deadlines", responses=_READ)
    async def pending_deadlines(
        company_id: CompanyId,
        who: Caller,
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

    add_clock_routes(app, clock)

    if asyncapi is not None:
        document = asyncapi

        @app.get("/asyncapi.json")
        async def asyncapi_document() -> dict[str, Any]:
            """Open to all: the AsyncAPI document of the message contract."""
            return document

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
            )
            # The terms a company may register are the catalog's: say so, so a client (and a
            # fuzzer) knows which ids are valid without being refused first.
            company = document["components"]["schemas"]["CompanyIn"]
            company["properties"]["terms_id"]["enum"] = catalog.ids()
            app.openapi_schema = with_command_schema(with_problem_schema(document), COMMAND_BODY)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def _kind(workflow_type: str) -> WorkflowKind:
    try:
        return registry.kind(workflow_type)
    except KeyError as e:
        raise Problem(404, "Unknown workflow type", str(e.args[0])) from e


async def _connected(readiness: Readiness) -> dict[str, bool]:
    status = await readiness.check()
    down = sorted(name for name, up in status.items() if not up)
    if down:
        raise Problem(
            503, "Not ready", f"not connected to {', '.join(down)}; retrying", connections=status
        )
    return status


def _refusal_problem(refusal: dict[str, str], outcome: dict[str, Any]) -> Problem:
    code = refusal.get("code", "refused")
    status = refusal_status(code)
    title = {404: _NOT_FOUND.get(code, "Workflow not found"), 422: "Invalid command"}.get(
        status, "Command refused"
    )
    return Problem(
        status,
        title,
        f"{refusal.get('rule', '')}: {refusal.get('reason', '')}",
        rule=refusal.get("rule"),
        reason=refusal.get("reason"),
        code=code,
        outcome=outcome,
    )


def outcome_dict(outcome: Any) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "workflow_id": str(outcome.workflow_id),
        "state": outcome.state,
        "version": outcome.version,
        "events": outcome.events,
        "refusal": outcome.refusal,
    }
