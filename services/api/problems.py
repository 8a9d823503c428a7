"""Errors as RFC 9457 problem details that name the rule that refused a command."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from workflows.kit.payload import SCHEMA_RULE


class Problem(Exception):
    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra
        self.headers = headers


def problem_response(
    status: int,
    title: str,
    detail: str,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=headers
    )


async def on_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Problem)
    return problem_response(exc.status, exc.title, exc.detail, exc.headers, **exc.extra)


async def on_http_error(_: Request, exc: Exception) -> JSONResponse:
    """Starlette's own answers (an unknown path, a method a path does not have) as problems."""
    assert isinstance(exc, HTTPException)
    return problem_response(exc.status_code, str(exc.detail), str(exc.detail), exc.headers)


async def on_invalid_request(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    if request.url.path.endswith("/commands"):
        return _invalid_command(exc)
    errors = [
        {"field": ".".join(str(p) for p in e["loc"]), "message": e["msg"]} for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    return problem_response(422, "Invalid request", detail, errors=errors)


_TAG_ERRORS = {"union_tag_invalid", "union_tag_not_found"}


def _invalid_command(exc: RequestValidationError) -> JSONResponse:
    """A command that breaks its schema: the same problem a refusal by the engine gives (422,
    ``invalid_payload``, or ``unknown_command`` listing the commands), naming each field as it
    is in the body."""
    body = exc.body if isinstance(exc.body, dict) else {}
    errors = []
    for e in exc.errors():
        loc = [str(p) for p in e["loc"]]
        if loc[:1] == ["body"]:
            loc = loc[1:]
        if loc[:1] == [body.get("command")]:  # the union member the command chose
            loc = loc[1:]
        errors.append({"field": ".".join(loc) or "body", "message": e["msg"]})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    unknown = any(e["type"] in _TAG_ERRORS for e in exc.errors())
    code = "unknown_command" if unknown else "invalid_payload"
    return problem_response(
        422,
        "Invalid command",
        detail,
        rule=SCHEMA_RULE,
        reason=detail,
        code=code,
        errors=errors,
    )
