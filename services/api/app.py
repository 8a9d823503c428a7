"""The HTTP API: send a command, read a workflow with its deadlines and history, list pending
deadlines, and (demo/test mode) advance the simulated clock.

A command sent over HTTP takes the same path as one over AMQP (``services.engine.apply``): one
transaction, the same inbox, the same refusals. Every route is scoped by company: a workflow of
another company is simply not found.

A refusal answers with a problem document naming the rule, the reason and the refusal code:
404 when the workflow is not the company's or the company does not exist, 422 when the command
itself is malformed (a payload field, unknown terms or workflow type), 409 when the rules refuse
it in the workflow's state. A message id sent again gets the answer it got the first time, with
no second effect. Reads of a company that does not exist are a 404 too, never an empty list, so
a misspelt company id is told apart from a company with nothing pending.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode
from uuid import UUID

from fastapi import FastAPI, Path, Query
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from services import engine
from services.api.body_limit import BodyLimit
from services.api.problems import Problem, on_invalid_request, on_problem
from services.clock import SimulatedClock
from services.readiness import Readiness
from services.runtime import Runtime
from services.store import companies, queries
from services.terms_catalog import UnknownTerms
from workflows.kernel import Party
from workflows.messages import NAME_PATTERN, CommandMessage, Text


def _name_query(description: str) -> Any:
    """A query parameter naming a workflow type or a party: an identifier of the contract."""
    return Query(min_length=1, max_length=80, pattern=NAME_PATTERN, description=description)


# The same pattern as a message's company_id: a company registered here can receive commands.
CompanyId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]

# Refusal codes answered 404, with their titles.
_NOT_FOUND = {"not_found": "Workflow not found", "unknown_company": "Company not found"}
# Refusal codes that mean "this request is malformed", as opposed to "not in this state".
_UNPROCESSABLE = {"invalid_payload", "malformed", "unknown_terms", "unknown_workflow_type"}


class CompanyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    terms_id: str = Field(description="a shipped preset or a company terms file id")
    name: Text = ""


#: The most the simulated clock moves in one request: 100 years (36,525 days) in total.
MAX_ADVANCE = timedelta(days=36_525)


class ClockAdvance(BaseModel):
    """How far to move the simulated clock. Strict integers (``false`` is not 0, ``"5"`` not 5),
    each bounded, and at most ``MAX_ADVANCE`` in total: a datetime cannot go past year 9999."""

    # A misspelt field ("day") must not silently advance the clock by nothing.
    model_config = ConfigDict(extra="forbid", strict=True)

    days: int = Field(default=0, ge=0, le=MAX_ADVANCE.days)
    hours: int = Field(default=0, ge=0, le=MAX_ADVANCE.days * 24)
    minutes: int = Field(default=0, ge=0, le=MAX_ADVANCE.days * 24 * 60)

    @model_validator(mode="after")
    def _at_most_the_maximum_in_total(self) -> ClockAdvance:
        if self.duration() > MAX_ADVANCE:
            raise ValueError(
                f"days + hours + minutes: at most {MAX_ADVANCE.days} days (100 years) in total"
            )
        return self

    def duration(self) -> timedelta:
        return timedelta(days=self.days, hours=self.hours, minutes=self.minutes)


def create_app(
    runtime: Runtime,
    *,
    asyncapi: dict[str, Any] | None = None,
    readiness: Readiness | None = None,
) -> FastAPI:
    app = FastAPI(
        title="equityflow",
        version="0.1.0",
        description="Legal workflows of private-company equity as persisted state machines.",
    )
    app.add_middleware(BodyLimit, max_bytes=runtime.settings.max_message_bytes)
    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(RequestValidationError, on_invalid_request)
    pool, clock, catalog = runtime.pool, runtime.clock, runtime.catalog

    ready = readiness or Readiness(pool)

    @app.get("/api/v1/health")
    async def health() -> dict[str, Any]:
        await _connected(ready)
        return {"status": "ok", "now": (await clock.now()).isoformat()}

    @app.get("/api/v1/ready")
    async def readiness_check() -> dict[str, Any]:
        """200 while every connection this process needs answers; 503 naming what is down."""
        return {"status": "ready", "connections": await _connected(ready)}

    @app.get("/api/v1/terms")
    async def list_terms() -> list[str]:
        return catalog.ids()

    @app.get("/api/v1/terms/{terms_id}")
    async def get_terms(terms_id: str) -> dict[str, Any]:
        try:
            return catalog.raw(terms_id)
        except UnknownTerms as e:
            raise Problem(404, "Unknown terms", str(e)) from e

    async def existing(company_id: str) -> None:
        if not await companies.company_exists(pool, company_id):
            raise _no_company(company_id)

    @app.get("/api/v1/companies")
    async def list_companies(
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        after: Annotated[str | None, Query(description="keyset: the last company_id")] = None,
    ) -> dict[str, Any]:
        rows = await companies.list_companies(pool, after=after, limit=limit)
        nxt = None
        if len(rows) == limit:
            last = rows[-1]["company_id"]
            query = urlencode({"limit": limit, "after": last})
            nxt = {"after": last, "href": f"/api/v1/companies?{query}"}
        return {"companies": rows, "next": nxt}

    @app.get("/api/v1/companies/{company_id}")
    async def get_company(company_id: CompanyId) -> dict[str, Any]:
        found = await companies.get_company(pool, company_id)
        if found is None:
            raise _no_company(company_id)
        return found

    @app.put("/api/v1/companies/{company_id}")
    async def register_company(company_id: CompanyId, body: CompanyIn) -> dict[str, Any]:
        try:
            catalog.get(body.terms_id)
        except UnknownTerms as e:
            raise Problem(422, "Unknown terms", str(e), known_terms=e.known) from e
        await companies.register_company(pool, company_id, body.terms_id, body.name)
        return {"company_id": company_id, "terms_id": body.terms_id, "name": body.name}

    @app.post("/api/v1/companies/{company_id}/commands")
    async def send_command(company_id: CompanyId, body: dict[str, Any]) -> dict[str, Any]:
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
    async def list_workflows(
        company_id: CompanyId,
        workflow_type: Annotated[str | None, _name_query("only this type")] = None,
    ) -> list[Any]:
        await existing(company_id)
        return await queries.list_workflows(pool, company_id, workflow_type=workflow_type)

    @app.get("/api/v1/companies/{company_id}/workflows/{workflow_id}")
    async def get_workflow(company_id: CompanyId, workflow_id: UUID) -> dict[str, Any]:
        found = await queries.get_workflow(pool, company_id, workflow_id)
        if found is None:
            raise Problem(404, "Workflow not found", f"no workflow {workflow_id} in {company_id}")
        return found

    @app.get("/api/v1/companies/{company_id}/deadlines")
    async def pending_deadlines(
        company_id: CompanyId,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        party: Annotated[Party | None, Query(description="only this party's deadlines")] = None,
        after_due: Annotated[datetime | None, Query(description="keyset: last due_at")] = None,
        after_id: Annotated[UUID | None, Query(description="keyset: last timer_id")] = None,
    ) -> dict[str, Any]:
        if (after_due is None) != (after_id is None):
            # One half of the keyset alone would silently restart from the first page.
            raise Problem(422, "Invalid request", "after_due and after_id go together")
        await existing(company_id)
        after = (after_due, after_id) if after_due and after_id else None
        rows = await queries.list_pending_deadlines(
            pool, company_id, after=after, limit=limit, party=party.value if party else None
        )
        nxt = None
        if len(rows) == limit:
            last = rows[-1]
            keyset = {"after_due": last["due_at"].isoformat(), "after_id": str(last["timer_id"])}
            query = {"limit": limit, **({"party": party.value} if party else {}), **keyset}
            nxt = {**keyset, "href": f"/api/v1/companies/{company_id}/deadlines?{urlencode(query)}"}
        return {"deadlines": rows, "next": nxt}

    @app.get("/api/v1/clock")
    async def read_clock() -> dict[str, Any]:
        return {"now": (await clock.now()).isoformat(), "simulated": _simulated(clock)}

    @app.post("/api/v1/clock/advance")
    async def advance_clock(body: ClockAdvance) -> dict[str, Any]:
        if not isinstance(clock, SimulatedClock):
            raise Problem(409, "Clock is real", "the clock can only be advanced in simulated mode")
        now = await clock.advance(body.duration())
        return {"now": now.isoformat(), "simulated": True}

    if asyncapi is not None:
        document = asyncapi

        @app.get("/asyncapi.json")
        async def asyncapi_document() -> dict[str, Any]:
            return document

    return app


def _no_company(company_id: str) -> Problem:
    return Problem(
        404,
        "Company not found",
        f"no company {company_id}: register it with PUT /api/v1/companies/{company_id} "
        '{"terms_id": ...} (or `equityflow register-company`); GET /api/v1/companies lists them',
    )


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
    status = 404 if code in _NOT_FOUND else 422 if code in _UNPROCESSABLE else 409
    title = _NOT_FOUND.get(code) or {422: "Invalid command"}.get(status, "Command refused")
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
