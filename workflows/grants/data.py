"""The grant's persisted data, version 1. Dates are ISO text; amounts decimal strings."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from workflows.kit.data import DataSchema

Record = dict[str, Any]


class GrantData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    terms_id: str | None = None
    optionee: str | None = None
    optionee_name: str | None = None
    plan: str | None = None
    option_type: str | None = None
    ten_percent_owner: bool | None = None
    service: str | None = None
    shares: int | None = None
    exercise_price: str | None = None
    grant_date: str | None = None
    expiration_date: str | None = None
    expires_at: str | None = None
    vesting: Record | None = None
    initial_exercise_date: str | None = None
    leaves: list[Record] | None = None
    leave_limit_days: int | None = None
    leave_credit_by_designation: bool | None = None
    leave_clause: str | None = None
    resolution: str | None = None
    fmv: Record | None = None
    checks: list[Record] | None = None
    deadlines: dict[str, Record] | None = None
    expired: Record | None = None
    termination: Record | None = None  # as the termination sent it (record_grant_termination)
    exercised: int | None = None
    exercises: dict[str, Record] | None = None  # exercise id → its shares, as it sent them


SCHEMA = DataSchema(GrantData, current=1)
