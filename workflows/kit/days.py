"""Reading the effective time of an act dated by a day alone (``terminated_on``, ``died_on``, a
leave's ``starts_on``): acts are judged by when they took effect, and a date is a whole day in
the company's time zone, so each field says which end of that day it means.

- ``START``: the act covers the whole day (a leave that starts on a day, a grant made on it):
  it is in force from the day's first instant, before anything else that happens that day.
- ``END``: the act is what the day came to (the last day of service, a death, a notice given
  that day): everything of that day happened before it, and a deadline ending that day (the
  company's deadlines end at its last instant) still finds it on time, since an act at the
  very instant of a deadline is applied before the deadline's timer (``workflows.kit.replay``).

An act is never taken to have effect after it was entered: a day that has not ended by then
means the time of entry (the rest of the day has not happened yet).
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, Literal

from workflows.calendar import CompanyCalendar
from workflows.kernel import Refused
from workflows.kit.effective import EffectiveTime

Edge = Literal["start", "end"]
START: Edge = "start"
END: Edge = "end"


def day_edge(ctx: Any, cmd: Any, key: str, edge: Edge) -> datetime:
    """The instant ``payload.<key>`` (a date) means, at ``edge`` of that day in the company's
    zone, never after the time of entry; Refused if the field is absent or not a date."""
    day = getattr(cmd, key, None)
    if not isinstance(day, date):
        raise Refused(ctx.clause, f"payload.{key} is required (a date)", "invalid_payload")
    return edge_of(ctx.cal, day, edge, ctx.now)


def edge_of(cal: CompanyCalendar, day: date, edge: Edge, now: datetime) -> datetime:
    """``edge`` of ``day`` in the company's zone, never after ``now`` (the time of entry)."""
    at = cal.end_of_day(day) if edge == END else datetime.combine(day, time(0), tzinfo=cal.zone)
    return min(at, now)


def by_day(key: str, edge: Edge) -> EffectiveTime:
    """The act took effect on the day at ``payload.<key>``, at its ``edge``."""

    def read(ctx: Any, cmd: Any) -> datetime:
        return day_edge(ctx, cmd, key, edge)

    return read


def first_of(*readers: EffectiveTime) -> EffectiveTime:
    """The first of ``readers`` that can read the act (each refusing when its field is absent);
    when none can, the act takes effect when entered."""

    def read(ctx: Any, cmd: Any) -> datetime:
        for reader in readers:
            try:
                return reader(ctx, cmd)
            except (Refused, AttributeError, TypeError, ValueError):
                continue  # this reader's field is absent or unreadable: try the next
        return ctx.now  # type: ignore[no-any-return]

    return read
