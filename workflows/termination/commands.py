"""The termination's command payloads, typed (docs/rules.md §5)."""

from __future__ import annotations

from datetime import date

from pydantic import Field

from workflows.kit.payload import Instant, Payload, Text
from workflows.terms.termination import Reason


class TerminateService(Payload):
    grant: Text = Field(description="the grant's id")
    reason: Reason
    terminated_on: date | None = Field(
        default=None, description="the last day of employment; left out for a leave over limit"
    )
    effective_at: Instant | None = Field(default=None, description="when it took effect")
    leave_started_on: date | None = Field(default=None, description="RD ISO ¶7(e)")
    disability_proof: str | None = Field(default=None, description="FMP §5(d)")
    resolution: str | None = Field(default=None, description="the Board's, where it decides")


class RecordDeath(Payload):
    died_on: date


class RecordExercisePrevented(Payload):
    prevented_since: date | None = None
    reason: str | None = None


class NotifyExercisable(Payload):
    notified_on: date


class RecordSection16bExposure(Payload):
    exposure_ends_on: date | None = Field(default=None, description="left out while unknown")
