"""The clock over HTTP: anyone with a key reads it; with the simulated clock (demo and test
mode) an operator advances it. With the system clock the advance route does not exist: real
time is never moved, and a key of one company must never move another company's deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel, ConfigDict, Field

from services.api.access import Caller, require_operator
from services.api.docs import problems
from services.api.problems import Problem
from services.clock import Clock, SimulatedClock

_CENTURY_DAYS = 36_525


class ClockAdvance(BaseModel):
    # A misspelt field ("day") must not silently advance the clock by nothing; strict: `false`
    # is not zero minutes. Each part is bounded to a century so the sum is a valid timedelta.
    model_config = ConfigDict(extra="forbid")

    days: int = Field(default=0, ge=0, le=_CENTURY_DAYS, strict=True)
    hours: int = Field(default=0, ge=0, le=_CENTURY_DAYS * 24, strict=True)
    minutes: int = Field(default=0, ge=0, le=_CENTURY_DAYS * 24 * 60, strict=True)


def add_clock_routes(app: FastAPI, clock: Clock) -> None:
    simulated = isinstance(clock, SimulatedClock)

    @app.get("/api/v1/clock", responses=problems(401))
    async def read_clock(_: Caller) -> dict[str, Any]:
        return {"now": (await clock.now()).isoformat(), "simulated": simulated}

    if not isinstance(clock, SimulatedClock):
        return
    sim = clock

    @app.post("/api/v1/clock/advance", responses=problems(401, 403, 422))
    async def advance_clock(body: ClockAdvance, who: Caller) -> dict[str, Any]:
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
