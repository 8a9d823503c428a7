"""The terms schema: one agreement family's windows, rules and parties, each citing its clause.

A terms document is data (YAML or JSON). Every value that comes from an agreement is either a
``Cited`` pair ``{value, clause}`` or a block with a ``clause`` field beside its values, so a
deadline, a refusal or a dashboard row can always say which clause it applies.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import Field, field_validator, model_validator

from workflows.calendar import CompanyCalendar
from workflows.kit.clauses import enforces
from workflows.terms.base import Cited, Clause, Strict
from workflows.terms.exercise import ExerciseTerms
from workflows.terms.grant import GrantTerms
from workflows.terms.rofr import RofrTerms
from workflows.terms.termination import TerminationTerms

_Strict = Strict


class NoticeMethod(StrEnum):
    PERSONAL = "personal"
    COURIER = "courier"
    FAX = "fax"
    EMAIL = "email"
    FIRST_CLASS_MAIL = "first_class_mail"
    CERTIFIED_MAIL = "certified_mail"
    REGISTERED_MAIL = "registered_mail"


class Effectiveness(StrEnum):
    ON_DELIVERY = "on_delivery"  # effective when delivered at the address
    AFTER_DEPOSIT = "after_deposit"  # effective a fixed delay after deposit in the mail


class CalendarTerms(_Strict):
    time_zone: Cited[str]
    holidays: Cited[str]  # a country code of the holidays package ("US"); "" = weekends only
    subdivision: Cited[str] | None = None
    extra_holidays: list[date] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, v: Cited[str]) -> Cited[str]:
        try:
            ZoneInfo(v.value)
        except (ZoneInfoNotFoundError, ValueError) as e:
            raise ValueError(f"unknown time zone {v.value!r}") from e
        return v

    @field_validator("holidays")
    @classmethod
    def _known_calendar(cls, v: Cited[str]) -> Cited[str]:
        if v.value and v.value not in holidays_lib.list_supported_countries():
            raise ValueError(f"unknown holiday calendar {v.value!r} (use a country code, or '')")
        return v

    @enforces("calendar")
    def company_calendar(self) -> CompanyCalendar:
        return _calendar(
            self.time_zone.value,
            self.holidays.value,
            self.subdivision.value if self.subdivision else None,
            tuple(self.extra_holidays),
        )


@lru_cache(maxsize=64)
def _calendar(
    zone: str, holidays: str, subdivision: str | None, extra: tuple[date, ...]
) -> CompanyCalendar:
    # One calendar per distinct setting: its holiday table is built once, not per decision.
    return CompanyCalendar(zone, holidays, subdivision, extra)


class MethodRule(_Strict):
    """How a notice given by one method becomes effective."""

    effective: Effectiveness
    delay_hours: int = Field(default=0, ge=0, le=24 * 30)
    clause: Clause = Field(min_length=1)


class NoticeTerms(_Strict):
    in_writing: Cited[bool]
    methods: dict[NoticeMethod, MethodRule] = Field(min_length=1)
    # A notice kind limited to fewer methods than ``methods`` (e.g. one a clause prescribes).
    methods_by_kind: dict[str, Cited[list[NoticeMethod]]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _kinds_use_known_methods(self) -> NoticeTerms:
        for kind, allowed in self.methods_by_kind.items():
            unknown = [m.value for m in allowed.value if m not in self.methods]
            if unknown:
                raise ValueError(f"methods_by_kind.{kind}: methods without a rule: {unknown}")
        return self


class Terms(_Strict):
    """One agreement family: its company calendar and notice rules, shared by every kind, and a
    section per workflow kind it governs."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    documents: dict[str, str] = Field(min_length=1)  # citation prefix → document title
    calendar: CalendarTerms
    notices: NoticeTerms
    # A section per workflow kind the document governs (``workflows.registry.SECTIONS``); a
    # kind whose section is absent cannot start under these terms.
    rofr: RofrTerms | None = None
    grant: GrantTerms | None = None
    termination: TerminationTerms | None = None
    option_exercise: ExerciseTerms | None = None

    def company_calendar(self) -> CompanyCalendar:
        return self.calendar.company_calendar()
