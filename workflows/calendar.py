"""Calendar arithmetic for legal deadlines (docs/rules.md §9).

Every deadline is computed in the company's time zone and carries the clause it comes from and
a derivation a person can check by hand ("FMP §6(d)(iii): Disposition Notice received
2026-03-02 + 30 days → 2026-04-01 23:59 PDT"). "Earliest of" / "later of" keep every part so
the deadline can show why it is the date it is.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from typing import Literal
from zoneinfo import ZoneInfo

import holidays as holidays_lib
from dateutil.relativedelta import relativedelta

END_OF_DAY = time(23, 59, 59, 999999)


@dataclass(frozen=True)
class Deadline:
    """An instant by which something must happen, with its clause and how it was derived."""

    at: datetime
    clause: str
    derivation: str
    parts: tuple[Deadline, ...] = ()

    @property
    def at_text(self) -> str:
        """``at`` in ISO 8601, formatted once: a deadline is stated in the data, its events and
        its timer, and ``isoformat`` costs more than all the rest of ``as_dict``. (Kept beside
        the fields, not as one: equality, hashing and ``repr`` stay those of the fields.)"""
        text: str | None = self.__dict__.get("_at_text")
        if text is None:
            text = self.at.isoformat()
            object.__setattr__(self, "_at_text", text)
        return text

    def as_dict(self) -> dict[str, object]:
        return {
            "at": self.at_text,
            "clause": self.clause,
            "derivation": self.derivation,
            "parts": [p.as_dict() for p in self.parts],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, object]) -> Deadline:
        parts = d.get("parts") or []
        assert isinstance(parts, list)
        return cls(
            datetime.fromisoformat(str(d["at"])),
            str(d["clause"]),
            str(d["derivation"]),
            tuple([cls.from_dict(p) for p in parts]) if parts else (),
        )

    def passed(self, when: datetime) -> bool:
        """True once ``when`` is after the deadline: an act effective at ``at`` is on time."""
        return when > self.at


@dataclass(frozen=True)
class CompanyCalendar:
    """A company's time zone and business-day calendar.

    ``holidays`` is a country code understood by the ``holidays`` package (``US`` by default:
    the US federal calendar); ``subdivision`` narrows it (``CA``); ``""`` means weekends only.
    """

    time_zone: str = "America/Los_Angeles"
    holidays: str = "US"
    subdivision: str | None = None
    extra_holidays: tuple[date, ...] = field(default=())

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    @cached_property
    def _holidays(self) -> holidays_lib.HolidayBase | None:
        if not self.holidays:
            return None
        return holidays_lib.country_holidays(self.holidays, subdiv=self.subdivision)

    def local(self, when: datetime) -> datetime:
        """``when`` in the company's zone; a naive time would silently be the host's zone."""
        if when.tzinfo is None:
            raise ValueError(f"naive datetime {when!r}: times must carry their zone")
        return when.astimezone(self.zone)

    def local_date(self, when: datetime) -> date:
        return self.local(when).date()

    def end_of_day(self, day: date) -> datetime:
        return datetime.combine(day, END_OF_DAY, tzinfo=self.zone)

    def close_of_business(self, day: date, hour: int = 17) -> datetime:
        return datetime.combine(day, time(hour), tzinfo=self.zone)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or day in self.extra_holidays:
            return False
        return self._holidays is None or day not in self._holidays

    def fmt(self, when: datetime) -> str:
        return stamp(self.local(when))

    def _deadline(self, end: date, clause: str, start_text: str, step: str) -> Deadline:
        at = self.end_of_day(end)  # in the company's zone already: stated as is
        return Deadline(at, clause, f"{clause}: {start_text} + {step} → {stamp(at)}")

    def days_after(self, start: datetime, n: int, *, clause: str, what: str) -> Deadline:
        """End of the Nth calendar day after the local date of ``start`` (docs/rules.md §9)."""
        day = self.local_date(start)
        return self._deadline(day + timedelta(days=n), clause, f"{what} {day}", f"{n} days")

    def months_after(self, start: datetime, n: int, *, clause: str, what: str) -> Deadline:
        """Same day number N months later, clamped to the month's last day."""
        day = self.local_date(start)
        return self._deadline(day + relativedelta(months=n), clause, f"{what} {day}", f"{n} months")

    def business_days_after(self, start: datetime, n: int, *, clause: str, what: str) -> Deadline:
        """End of the Nth business day after ``start``: weekends and holidays skipped."""
        day = self.local_date(start)
        end, counted = day, 0
        while counted < n:
            end += timedelta(days=1)
            if self.is_business_day(end):
                counted += 1
        cal = self.holidays or "no"
        return self._deadline(end, clause, f"{what} {day}", f"{n} business days ({cal} holidays)")

    def anniversary_less_one_day(
        self, start: date, years: int, *, clause: str, what: str
    ) -> Deadline:
        """The Nth anniversary less one day (RD ISO ¶1(h)); 29 Feb clamps to 28 Feb."""
        end = start + relativedelta(years=years) - timedelta(days=1)
        return self._deadline(end, clause, f"{what} {start}", f"{years}th anniversary less one day")

    def at(self, when: datetime, *, clause: str, what: str) -> Deadline:
        return Deadline(when, clause, f"{clause}: {what} {self.fmt(when)}")


def stamp(local: datetime) -> str:
    """``local`` as ``2026-04-01 23:59 PDT``: its date, hour and minute in its own zone.

    Formatted field by field: ``strftime`` costs several times more, and every deadline and
    notice states a time or two this way. ``strftime`` stays for years before 1000, where
    its ``%Y`` is not padded to four digits."""
    if local.year < 1000:
        return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    return (
        f"{local.year:04d}-{local.month:02d}-{local.day:02d} "
        f"{local.hour:02d}:{local.minute:02d} {local.tzname()}"
    )


def combine(
    rule: Literal["later", "earliest"], *parts: Deadline, clause: str, what: str
) -> Deadline:
    """``later of`` / ``earliest of`` several deadlines, keeping every part for the record."""
    if not parts:
        raise ValueError("combine needs at least one deadline")
    pick = max(parts, key=lambda d: d.at) if rule == "later" else min(parts, key=lambda d: d.at)
    why = "; ".join(p.derivation for p in parts)
    # The result is stated from ``pick.at`` itself (each part is in the company's zone), never
    # cut out of a part's text: a part's derivation may end with a notice's own "→ effective".
    result = stamp(pick.at)
    return Deadline(pick.at, clause, f"{clause}: {what}: the {rule} of [{why}] → {result}", parts)
