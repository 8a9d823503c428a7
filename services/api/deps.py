"""What a route needs, as FastAPI dependencies read from the container the app was built with.

``create_app`` keeps the container (``services.runtime.Runtime``) in ``app.state``; a route
names what it uses (``pool: Pool``, ``clock: ClockDep`` …) and never a module global, so one
process can serve two apps on two containers (as the tests do). None of these adds a parameter
to the OpenAPI document: they read the request's app, nothing the client sends. They are
``async`` so FastAPI calls them on the event loop, not in its thread pool.
"""

from __future__ import annotations

from typing import Annotated

import asyncpg
from fastapi import Depends, Request

from services.clock import Clock, SimulatedClock
from services.engine.turns import InArrivalOrder
from services.readiness import Readiness
from services.runtime import Runtime
from services.terms_catalog import TermsCatalog


async def runtime(request: Request) -> Runtime:
    container: Runtime = request.app.state.runtime
    return container


async def _pool(rt: Annotated[Runtime, Depends(runtime)]) -> asyncpg.Pool:
    return rt.pool


async def _clock(rt: Annotated[Runtime, Depends(runtime)]) -> Clock:
    return rt.clock


async def _simulated_clock(rt: Annotated[Runtime, Depends(runtime)]) -> SimulatedClock:
    # The route that takes it is only added for a simulated clock (services.api.clock).
    assert isinstance(rt.clock, SimulatedClock)
    return rt.clock


async def _catalog(rt: Annotated[Runtime, Depends(runtime)]) -> TermsCatalog:
    return rt.catalog


async def _readiness(request: Request) -> Readiness:
    readiness: Readiness = request.app.state.readiness
    return readiness


async def _turns(request: Request) -> InArrivalOrder:
    turns: InArrivalOrder = request.app.state.turns
    return turns


Pool = Annotated[asyncpg.Pool, Depends(_pool)]
ClockDep = Annotated[Clock, Depends(_clock)]
SimulatedClockDep = Annotated[SimulatedClock, Depends(_simulated_clock)]
Catalog = Annotated[TermsCatalog, Depends(_catalog)]
Ready = Annotated[Readiness, Depends(_readiness)]
#: The app's turns per workflow: requests for one workflow apply in the order they arrived.
Turns = Annotated[InArrivalOrder, Depends(_turns)]
