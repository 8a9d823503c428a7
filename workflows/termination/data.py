"""The termination's persisted data, version 1. Dates are ISO text."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from workflows.kit.data import DataSchema

Record = dict[str, Any]


class TerminationData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    terms_id: str | None = None
    grant: str | None = None
    optionee: str | None = None
    reason: str | None = None
    recorded_reason: str | None = None
    terminated_on: str | None = None
    effective_at: str | None = None
    expiration: Record | None = None
    shares: int | None = None
    exercised: int | None = None
    vested: int | None = None
    retained: int | None = None
    forfeited: int | None = None
    proof: str | None = None
    resolution: str | None = None
    death: Record | None = None
    prevented_by_law: Record | None = None
    section_16b: Record | None = None
    deadlines: dict[str, Record] | None = None
    closed: Record | None = None


SCHEMA = DataSchema(TerminationData, current=1)
