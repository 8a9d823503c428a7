"""What the OpenAPI document says about refusals: each route lists the problem documents it
may answer with (``application/problem+json``), so a client and a schema fuzzer know every
status it can get."""

from __future__ import annotations

from typing import Any

from pydantic import TypeAdapter

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; refusals of a command also name the rule.",
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "rule": {"type": ["string", "null"]},
        "reason": {"type": ["string", "null"]},
        "code": {"type": "string"},
    },
    "additionalProperties": True,
}

_MEANING = {
    400: "the body could not be read (not UTF-8 text)",
    401: "no API key, or a malformed, unknown or revoked one",
    403: "the API key lacks the scope, party or operator grant this needs",
    404: "not found, or a company this API key holds no grant in",
    409: "refused by a rule in the current state",
    413: "the body is over EQUITYFLOW_MAX_MESSAGE_BYTES, refused before it is read",
    422: "the request is malformed; the problem names the field",
    503: "not connected to PostgreSQL or RabbitMQ; the problem names what is down",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses`` of a route: each status answered with a problem document."""
    documented: dict[int | str, dict[str, Any]] = {}
    for status in statuses:
        response: dict[str, Any] = {
            "description": _MEANING[status],
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        if status == 401:
            response["headers"] = {
                "WWW-Authenticate": {
                    "description": "Bearer: send an API key",
                    "schema": {"type": "string"},
                }
            }
        documented[status] = response
    return documented


def with_problem_schema(openapi: dict[str, Any]) -> dict[str, Any]:
    openapi.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    return openapi


def with_command_schema(openapi: dict[str, Any], body: TypeAdapter[Any]) -> dict[str, Any]:
    """Document the command route's body as ``body``: every command's message with its payload
    model, a union discriminated on ``command``.

    The route reads a plain JSON object so that the API key and NUL checks answer first and a
    malformed command gets the contract's own 422 naming each field; the document still shows
    what each command is. Over HTTP ``company_id`` may be left out: the path names the company.
    """
    union = body.json_schema(ref_template="#/components/schemas/{model}")
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(union.pop("$defs", {}))
    operation = openapi["paths"]["/api/v1/companies/{company_id}/commands"]["post"]
    operation["requestBody"]["content"]["application/json"]["schema"] = union
    return openapi
