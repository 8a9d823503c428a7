"""Routes open to all: whether this process is connected, and the AsyncAPI document."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from services.api.deps import ClockDep, Ready
from services.api.docs import problems
from services.api.problems import Problem
from services.readiness import Readiness

router = APIRouter()


@router.get("/api/v1/health", responses=problems(503))
async def health(ready: Ready, clock: ClockDep) -> dict[str, Any]:
    """Open to all: whether the API reaches its database (503 naming what is down)."""
    await _connected(ready)
    return {"status": "ok", "now": (await clock.now()).isoformat()}


@router.get("/api/v1/ready", responses=problems(503))
async def readiness_check(ready: Ready) -> dict[str, Any]:
    """Open to all: 200 while every connection this process needs answers; 503 naming
    what is down."""
    return {"status": "ready", "connections": await _connected(ready)}


async def _connected(readiness: Readiness) -> dict[str, bool]:
    status = await readiness.check()
    down = sorted(name for name, up in status.items() if not up)
    if down:
        raise Problem(
            503, "Not ready", f"not connected to {', '.join(down)}; retrying", connections=status
        )
    return status


#: Added only when the app is given an AsyncAPI document (``create_app(asyncapi=...)``).
asyncapi_router = APIRouter()


@asyncapi_router.get("/asyncapi.json")
async def asyncapi_document(request: Request) -> dict[str, Any]:
    """Open to all: the AsyncAPI document of the message contract."""
    document: dict[str, Any] = request.app.state.asyncapi
    return document
