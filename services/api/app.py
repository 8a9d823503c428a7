"""The HTTP API: send a command, read a workflow with its deadlines and history, list pending
deadlines, register companies, and (demo/test mode) advance the simulated clock.

Every route but ``/api/v1/health``, ``/api/v1/ready`` and the API documents (``/openapi.json``,
``/docs``, ``/asyncapi.json``) needs an API key (``services.api.access``): a key sees only the
companies it holds a grant in, with its scopes, and sends commands only as its parties. Every
route is scoped by company: a workflow of another company is simply not found.

Each part of the API is a router (``health``, ``terms``, ``companies``, ``registers``,
``commands``, ``workflows``, ``clock``) whose routes take what they need from the container the
app was built with, as FastAPI dependencies (``services.api.deps``).
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from starlette.exceptions import HTTPException

from services.api import clock, commands, companies, health, registers, terms, workflows
from services.api.body_limit import BodyLimit
from services.api.docs import with_command_schema, with_problem_schema
from services.api.problems import Problem, on_http_error, on_invalid_request, on_problem
from services.clock import SimulatedClock
from services.engine.turns import InArrivalOrder
from services.runtime import Runtime


def create_app(runtime: Runtime, *, asyncapi: dict[str, Any] | None = None) -> FastAPI:
    """The API over ``runtime``'s parts; ``asyncapi``: the document ``/asyncapi.json`` serves
    (no such route without one)."""
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
    app.state.runtime = runtime
    app.state.readiness = runtime.readiness
    app.state.turns = InArrivalOrder()  # this app's turns: one request per workflow at a time
    for router in (
        health.router,
        terms.router,
        companies.router,
        registers.router,
        commands.router,
        workflows.router,
        clock.router,
    ):
        app.include_router(router)
    if isinstance(runtime.clock, SimulatedClock):
        app.include_router(clock.advance_router)
    if asyncapi is not None:
        app.state.asyncapi = asyncapi
        app.include_router(health.asyncapi_router)

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
            company["properties"]["terms_id"]["enum"] = runtime.catalog.ids()
            app.openapi_schema = with_command_schema(
                with_problem_schema(document), commands.COMMAND_BODY
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
