"""The terms schema: one agreement family's windows, rules and parties, each citing its clause.

A terms document is data (YAML or JSON). Every value that comes from an agreement is either a
``Cited`` pair ``{value, clause}`` or a block with a ``clause`` field beside its values, so a
deadline, a refusal or a dashboard row can always say which clause it applies.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_lib
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from workflows.calendar import CompanyCalendar
from workflows.kit.clauses import enforces
from workflows.terms.base import Cited, Clause, Strict
from workflows.terms.sections import SECTIONS

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
    section per workflow kind it governs, under the kind's name, of the schema the kind
    registered (``workflows.terms.sections``); a kind whose section is absent cannot start
    under these terms."""

    # The kinds' sections are kept as the model's extra fields, each validated by its schema.
    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")
    name: str = Field(min_length=1)
    family: str = Field(min_length=1)
    documents: dict[str, str] = Field(min_length=1)  # citation prefix → document title
    calendar: CalendarTerms
    notices: NoticeTerms

    def company_calendar(self) -> CompanyCalendar:
        return self.calendar.company_calendar()

    def section(self, kind: str) -> BaseModel | None:
        """The section for ``kind``, or None if these terms do not govern it."""
        found = (self.__pydantic_extra__ or {}).get(kind)
        return found if isinstance(found, BaseModel) else None

    def __getattr__(self, name: str) -> Any:
        if name in SECTIONS:  # ``terms.<kind>``: None where the document has no such section
            return self.section(name)
        return super().__getattr__(name)  # type: ignore[misc]

    @model_validator(mode="wrap")
    @classmethod
    def _sections(cls, raw: Any, handler: ModelWrapValidatorHandler[Terms]) -> Terms:
        if not isinstance(raw, dict):
            return handler(raw)
        errors: list[InitErrorDetails] = []
        sections: dict[str, BaseModel] = {}
        for key, value in raw.items():
            if key in cls.model_fields or value is None:
                continue
            schema = SECTIONS.get(key)
            if schema is None:
                known = ", ".join(sorted(SECTIONS)) or "none"
                errors.append(_error((key,), f"not a field nor a kind's section (kinds: {known})"))
                continue
            try:
                sections[key] = schema.model_validate(value)
            except ValidationError as e:
                errors += [_error((key, *err["loc"]), err["msg"]) for err in e.errors()]
        try:
            terms = handler({k: v for k, v in raw.items() if k in cls.model_fields})
        except ValidationError as e:
            errors = [_error(tuple(err["loc"]), err["msg"]) for err in e.errors()] + errors
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        assert terms.__pydantic_extra__ is not None
        terms.__pydantic_extra__.update(sections)
        return terms


def _error(loc: tuple[str | int, ...], message: str) -> InitErrorDetails:
    return InitErrorDetails(
        type=PydanticCustomError("terms", "{message}", {"message": message}), loc=loc, input=None
    )
