"""The clock over HTTP: anyone with a key reads it; with the simulated clock (demo and test
mode) an operator advances it. With the system clock the advance route does not exist: real
time is never moved, and a key of one company must never move another company's deadlines."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from services.api.access import Caller, require_operator
from services.api.docs import problems
from services.api.problems import Problem
from services.clock import Clock, SimulatedClock

_CENTURY_DAYS = 36_525
#: The most one request advances the simulated clock: a century, each part and all together.
MAX_ADVANCE = timedelta(days=_CENTURY_DAYS)


def _whole_number(value: object) -> object:
    """A JSON integer (``3`` or ``3.0``); never ``false`` (not zero minutes) nor ``"3"``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("a whole number (an integer) is needed")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("a whole number (an integer) is needed")
        return int(value)
    return value


WholeNumber = Annotated[int, BeforeValidator(_whole_number)]


class ClockAdvance(BaseModel):
    # A misspelt field ("day") must not silently advance the clock by nothing. Each part is
    # bounded to a century, so the sum is always a valid timedelta.
    model_config = ConfigDict(extra="forbid")

    days: WholeNumber = Field(default=0, ge=0, le=_CENTURY_DAYS)
    hours: WholeNumber = Field(default=0, ge=0, le=_CENTURY_DAYS * 24)
    minutes: WholeNumber = Field(default=0, ge=0, le=_CENTURY_DAYS * 24 * 60)

    @model_validator(mode="after")
    def _at_most_a_century(self) -> ClockAdvance:
        if timedelta(days=self.days, hours=self.hours, minutes=self.minutes) > MAX_ADVANCE:
            raise ValueError(f"at most 100 years ({_CENTURY_DAYS} days) in all")
        return self


def add_clock_routes(app: FastAPI, clock: Clock) -> None:
    simulated = isinstance(clock, SimulatedClock)

    @app.get("/api/v1/clock", responses=problems(401))
    async def read_clock(_: Caller) -> dict[str, Any]:
        return {"now": (await clock.now()).isoformat(), "simulated": simulated}

    if not isinstance(clock, SimulatedClock):
        return
    sim = clock

    @app.post("/api/v1/clock/advance", responses=problems(400, 401, 403, 422))
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
