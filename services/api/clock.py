"""The clock over HTTP: anyone with a key reads it; with the simulated clock (demo and test
mode) an operator advances it. With the system clock the advance route does not exist: real
time is never moved, and a key of one company must never move another company's deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from services.api.access import Caller, require_operator
from services.api.deps import ClockDep, SimulatedClockDep
from services.api.docs import problems
from services.api.problems import Problem
from services.clock import SimulatedClock

_CENTURY_DAYS = 36_525
#: The most the simulated clock moves in one request, per part: 100 years.
MAX_ADVANCE = timedelta(days=_CENTURY_DAYS)


def _whole_number(value: object) -> object:
    """A JSON integer (``3``, or ``3.0`` as JSON Schema counts it); never ``false`` (not zero
    minutes), ``"3"`` or ``1.5``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer (a whole number) is needed")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("an integer (a whole number) is needed")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class ClockAdvance(BaseModel):
    """How far to move the simulated clock. A misspelt field ("day") must not silently advance
    it by nothing; each part is bounded to a century (``MAX_ADVANCE``), so the sum is always a
    valid timedelta and a datetime never passes the year 9999 by accident."""

    model_config = ConfigDict(extra="forbid")

    days: WholeNumber = Field(default=0, ge=0, le=MAX_ADVANCE.days)
    hours: WholeNumber = Field(default=0, ge=0, le=MAX_ADVANCE.days * 24)
    minutes: WholeNumber = Field(default=0, ge=0, le=MAX_ADVANCE.days * 24 * 60)


router = APIRouter()


@router.get("/api/v1/clock", responses=problems(401))
async def read_clock(_: Caller, clock: ClockDep) -> dict[str, Any]:
    return {"now": (await clock.now()).isoformat(), "simulated": isinstance(clock, SimulatedClock)}


#: Added only when the clock is simulated (``create_app``): real time is never moved.
advance_router = APIRouter()


@advance_router.post("/api/v1/clock/advance", responses=problems(400, 401, 403, 422))
async def advance_clock(body: ClockAdvance, who: Caller, sim: SimulatedClockDep) -> dict[str, Any]:
    """Advance the shared simulated clock (operator key; simulated clock only)."""
    require_operator(who, "advancing the simulated clock")
    by = timedelta(days=body.days, hours=body.hours, minutes=body.minutes)
    try:
        now = await sim.advance(by)
    except OverflowError as e:
        raise Problem(
            422, "Clock overflow", "the simulated clock cannot go past the year 9999"
        ) from e
    return {"now": now.isoformat(), "simulated": True}
