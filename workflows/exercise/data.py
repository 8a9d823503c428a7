"""The exercise's persisted data, version 1 (the first): what the rules record, as JSON.

Amounts are decimal strings, times ISO 8601 text; the nested records (notice, facts, payment,
withholding, election, certificate) are as the rules write them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from workflows.kit.data import DataSchema

Record = dict[str, Any]


class ExerciseData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    terms_id: str | None = None
    grant: str | None = None  # the grant's id (indexed: the grant's exercises are found by it)
    grant_id: str | None = None  # the same, as rows written before the register view named it
    optionee: str | None = None
    exercised_by: Record | None = None
    shares: int | None = None
    notice: Record | None = None
    facts: Record | None = None  # the grant's facts as a notice carried them, before the register
    circumstances: Record | None = None
    claim: Record | None = None  # {shares, on}: what the exercise holds of its grant
    aggregate_price: str | None = None
    payment: Record | None = None
    payments_refused: list[Record] | None = None
    deadlines: dict[str, Record] | None = None
    withholding: Record | None = None
    election: Record | None = None
    elections_disapproved: list[Record] | None = None
    investment_letter: Record | None = None
    escrow: Record | None = None
    certificate: Record | None = None
    disposition_watch: Record | None = None
    rejection: Record | None = None
    withdrawal: Record | None = None
    termination: Record | None = None  # as the termination workflow reported it


SCHEMA = DataSchema(ExerciseData, current=1)
