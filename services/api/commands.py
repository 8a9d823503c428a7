"""Sending a command over HTTP: the same path as over AMQP (``services.engine.apply``, a batch
of one), with the same inbox and refusals, and the requests for one workflow applied in the
order they arrived.

A refusal answers with a problem document naming the rule, the reason and the refusal code:
404 when the workflow is not the company's, 422 when the command itself is malformed (an unknown
command, a payload that breaks its command's model, unknown terms or workflow type), 409 when
the rules of the terms refuse it in the workflow's state (``workflows.kernel.refusal_status``).
A message id sent again gets the answer it got the first time, with no second effect.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import Field, TypeAdapter, ValidationError

from services import engine
from services.api.access import Caller, company_grant, require_party
from services.api.companies import CompanyId
from services.api.deps import Catalog, ClockDep, Pool, Turns
from services.api.docs import problems
from services.api.problems import Problem
from services.engine.outcome import Outcome
from workflows.command_schemas import command_union
from workflows.kernel import refusal_status
from workflows.messages import CommandMessage

# One command of any kind with its payload model, discriminated on ``command``; the route reads
# the body as a plain object first so the key, NUL and envelope checks answer before it.
COMMAND_BODY: TypeAdapter[Any] = TypeAdapter(
    # A union built at run time (one member per command), so no static type describes it.
    Annotated[command_union(company_in_path=True), Field(discriminator="command")]  # type: ignore[arg-type]
)
# Refusals answered as not found, by title; which codes they are is ``refusal_status``'s.
_NOT_FOUND = {"unregistered_company": "Company not found"}

router = APIRouter()


@router.post(
    "/api/v1/companies/{company_id}/commands", responses=problems(400, 401, 403, 404, 409, 422)
)
async def send_command(
    company_id: CompanyId,
    body: dict[str, Any],
    who: Caller,
    pool: Pool,
    clock: ClockDep,
    catalog: Catalog,
    turns: Turns,
) -> dict[str, Any]:
    """Send a command (``command`` scope), acting as one of the key's parties."""
    grant = company_grant(who, company_id, "command")
    body = {**body, "company_id": body.get("company_id", company_id)}
    if body["company_id"] != company_id:
        raise Problem(422, "Company mismatch", "the body names another company than the path")
    message = _envelope(body)
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


def _envelope(body: dict[str, Any]) -> CommandMessage:
    """The message's envelope, each field in error named; ``caused_by`` is the engine's alone."""
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
    return message


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


def outcome_dict(outcome: Outcome) -> dict[str, Any]:
    return {
        "status": outcome.status,
        "workflow_id": str(outcome.workflow_id),
        "state": outcome.state,
        "version": outcome.version,
        "events": outcome.events,
        "refusal": outcome.refusal,
    }
