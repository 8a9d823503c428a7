"""The HTTP API: send a command, read a workflow with its deadlines and history, list pending
deadlines, and (demo/test mode) advance the simulated clock.

A command sent over HTTP takes the same path as one over AMQP (``services.engine.apply``): one
transaction, the same inbox, the same refusals. Every route is scoped by company: a workflow of
another company is simply not found.

A refusal answers with a problem document naming the rule, the reason and the refusal code:
404 when the workflow is not the company's, 422 when the command itself is malformed (an unknown
command, a payload that breaks its command's model, unknown terms or workflow type), 409 when
the rules of the terms refuse it in the workflow's state (``workflows.kernel.refusal_status``).
A message id sent again gets the answer it got the first time, with no second effect.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import Body, FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services import engine
from services.api.problems import Problem, on_invalid_request, on_problem
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.store import companies, queries
from services.terms_catalog import UnknownTerms
from workflows import registry
from workflows.command_schemas import command_union
from workflows.kernel import WorkflowKind, refusal_status
from workflows.messages import CommandMessage

# The same pattern as a message's company_id: a company registered here can receive commands.
CompanyId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]


# One command of any kind, with its payload model; company_id may be left to the path.
CommandBody = Annotated[command_union(company_in_path=True), Body(discriminator="command")]


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms_id: str = Field(description="a shipped preset or a company terms file id")
    name: str = ""


class ClockAdvance(BaseModel):
    # A misspelt field ("day") must not silently advance the clock by nothing.
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0)
    hours: int = Field(default=0, ge=0)
    minutes: int = Field(default=0, ge=0)


def create_app(runtime: Runtime, *, asyncapi: dict[str, Any] | None = None) -> FastAPI:
    app = FastAPI(
        title="equityflow",
        version="0.1.0",
        description="Legal workflows of private-company equity as persisted state machines.",
    )
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    pool, clock, catalog = runtime.pool, runtime.clock, runtime.catalog

    @app.get("/api/v1/health")
    async def health() -> dict[str, Any]:
        await pool.fetchval("SELECT 1")
        return {"status": "ok", "now": (await clock.now()).isoformat()}

    @app.get("/api/v1/terms")
    async def list_terms() -> list[str]:
        return catalog.ids()

    @app.get("/api/v1/terms/{terms_id}")
    async def get_terms(terms_id: str) -> dict[str, Any]:
        try:
            return catalog.raw(terms_id)
        except UnknownTerms as e:
            raise Problem(404, "Unknown terms", str(e)) from e

    @app.put("/api/v1/companies/{company_id}")
    async def register_company(company_id: CompanyId, body: CompanyIn) -> dict[str, Any]:
        try:
            catalog.get(body.terms_id)
        except UnknownTerms as e:
            raise Problem(422, "Unknown terms", str(e), known_terms=e.known) from e
        await companies.register_company(pool, company_id, body.terms_id, body.name)
        return {"company_id": company_id, "terms_id": body.terms_id, "name": body.name}

    @app.post("/api/v1/companies/{company_id}/commands")
    async def send_command(
        company_id: CompanyId,
        typed: CommandBody,  # the contract, checked (and documented) before this runs
        request: Request,
    ) -> dict[str, Any]:
        # The engine gets the command as sent, as it does from AMQP, and checks it again there.
        body: dict[str, Any] = await request.json()
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
        outcome = await engine.apply(pool, message, clock, catalog)
        result = outcome_dict(outcome)
        # A duplicate of a refused command carries its refusal: a retry gets the same answer.
        if outcome.refusal is not None:
            raise _refusal_problem(outcome.refusal, result)
        return result

    @app.get("/api/v1/companies/{company_id}/workflows")
    async def list_workflows(company_id: CompanyId, workflow_type: str | None = None) -> list[Any]:
        return await queries.list_workflows(pool, company_id, workflow_type=workflow_type)

    @app.get("/api/v1/companies/{company_id}/workflows/{workflow_id}")
    async def get_workflow(company_id: CompanyId, workflow_id: UUID) -> dict[str, Any]:
        found = await queries.get_workflow(pool, company_id, workflow_id)
        if found is None:
            raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
        return found

    @app.get("/api/v1/workflow-types/{workflow_type}/diagram", response_class=PlainTextResponse)
    async def diagram(workflow_type: str) -> str:
        """The kind's chart as Mermaid text (``stateDiagram-v2``)."""
        return _kind(workflow_type).CHART.mermaid()

    @app.get(
        "/api/v1/companies/{company_id}/workflows/{workflow_id}/diagram",
        response_class=PlainTextResponse,
    )
    async def workflow_diagram(company_id: CompanyId, workflow_id: UUID) -> str:
        """The chart of the workflow's kind as Mermaid text, its current state marked."""
        found = await queries.get_workflow(pool, company_id, workflow_id)
        if found is None:
            raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
        return _kind(found["workflow_type"]).CHART.mermaid(current=found["state"])

    @app.get("/api/v1/companies/{company_id}/deadlines")
    async def pending_deadlines(
        company_id: CompanyId,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        party: str | None = None,
        after_due: Annotated[datetime | None, Query(description="keyset: last due_at")] = None,
        after_id: Annotated[UUID | None, Query(description="keyset: last timer_id")] = None,
    ) -> dict[str, Any]:
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

    @app.get("/api/v1/clock")
    async def read_clock() -> dict[str, Any]:
        return {"now": (await clock.now()).isoformat(), "simulated": _simulated(clock)}

    @app.post("/api/v1/clock/advance")
    async def advance_clock(body: ClockAdvance) -> dict[str, Any]:
        if not isinstance(clock, SimulatedClock):
            raise Problem(409, "Clock is real", "the clock can only be advanced in simulated mode")
        now = await clock.advance(timedelta(days=body.days, hours=body.hours, minutes=body.minutes))
        return {"now": now.isoformat(), "simulated": True}

    if asyncapi is not None:
        document = asyncapi

        @app.get("/asyncapi.json")
        async def asyncapi_document() -> dict[str, Any]:
            return document

    return app


def _kind(workflow_type: str) -> WorkflowKind:
    try:
        return registry.kind(workflow_type)
    except KeyError as e:
        raise Problem(404, "Unknown workflow type", str(e.args[0])) from e


def _refusal_problem(refusal: dict[str, str], outcome: dict[str, Any]) -> Problem:
    code = refusal.get("code", "refused")
    status = refusal_status(code)
    title = {404: "Workflow not found", 422: "Invalid command"}.get(status, "Command refused")
    return Problem(
        status,
        title,
        f"{refusal.get('rule', '')}: {refusal.get('reason', '')}",
        rule=refusal.get("rule"),
        reason=refusal.get("reason"),
        code=code,
        outcome=outcome,
    )


def _simulated(clock: object) -> bool:
    return isinstance(clock, SimulatedClock)


def outcome_dict(outcome: Any) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "workflow_id": str(outcome.workflow_id),
        "state": outcome.state,
        "version": outcome.version,
        "events": outcome.events,
        "refusal": outcome.refusal,
    }
