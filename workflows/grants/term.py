"""The option's term: its expiration date and the instant it expires (docs/rules.md §3, §9)."""

from __future__ import annotations

from datetime import date, timedelta

from dateutil.relativedelta import relativedelta

from workflows.calendar import CompanyCalendar, Deadline


def anniversary_less_one_day(start: date, years: int) -> date:
    """RD ISO ¶1(h): the Nth anniversary less one day (a 29 February grant's anniversary is
    28 February, less one day: 27 February)."""
    return start + relativedelta(years=years) - timedelta(days=1)


def expiry(cal: CompanyCalendar, expiration_date: date, clause: str, name: str) -> Deadline:
    """The end of the option's last day: exercisable through it (FMP §5(a): "in no case later
    than the Option Expiration Date"; RD ISO ¶7(a): "no later than the Option Term Date")."""
    at = cal.end_of_day(expiration_date)
    return Deadline(at, clause, f"{clause}: {name} {expiration_date} → {cal.fmt(at)}")
