"""Vesting and exercisability as pure functions of a grant's facts and a day (docs/rules.md §3).

``vested(grant, on)``: shares vested on the company-local day ``on``. ``exercisable(grant,
on)``: shares that may be bought on ``on`` under the schedule, the shares already acquired
subtracted. Both are monotone in ``on``, never negative and never above the grant; whether the
option is still alive at an instant (expiry, post-termination window) is ``facts.open_at``.

Two schedules:
- FMP §3(a): the certificate's installments, cumulative.
- RD ISO ¶1(g): the Vested Ratio. 0 before the Initial Vesting Date; 1/48 on it; 1/48 more for
  each full month of continuous employment after it; never above 1. A full month runs from the
  Initial Vesting Date to the same day number a month later, clamped to the month's last day
  (docs/rules.md §9): from 1993-01-31 the first full month ends 1993-02-28. Shares are the
  Number of Option Shares × the ratio, rounded down: no fraction of a share is issued (RD ISO
  ¶4(g)).

Employment ends on ``service_ended_on`` or, where the terms set a leave limit (RD ISO ¶7(e):
90 days), on the 91st day of a longer leave unless re-employment is guaranteed; nothing vests
after it. Where leave earns vesting credit only by designation (RD ISO ¶7(e)), the days of any
other leave do not count: the schedule waits for them (a reading of "treated as employment for
purposes of determining the Vested Ratio if and only if ..."; the Board interprets, RD ISO ¶3).
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from dateutil.relativedelta import relativedelta

from workflows.grants.facts import GrantFacts, Installments, Leave, VestedRatio


def full_months(start: date, end: date) -> int:
    """Full months from ``start`` to ``end``: the largest n with start + n months ≤ end."""
    if end < start:
        return 0
    diff = relativedelta(end, start)
    n = diff.years * 12 + diff.months
    # relativedelta counts from the day number; a clamped month end (31 Jan → 28 Feb) completes
    # the month too, so look one further.
    while start + relativedelta(months=n + 1) <= end:
        n += 1
    return n


def leave_ends_employment(leave: Leave, limit_days: int | None) -> date | None:
    """RD ISO ¶7(e): a leave in excess of ``limit_days`` ends employment on day limit + 1 of the
    leave, unless re-employment is guaranteed by statute or contract. A leave still going on is
    judged as if it will exceed the limit."""
    if limit_days is None or leave.reemployment_guaranteed:
        return None
    deemed = leave.starts_on + timedelta(days=limit_days)  # day 1 is the first day of leave
    if leave.ends_on is None or leave.ends_on >= deemed:
        return deemed
    return None


def employment_end(grant: GrantFacts) -> date | None:
    """The last day of employment for vesting: a recorded termination or a leave that ended it,
    whichever is first."""
    ends = [leave_ends_employment(leave, grant.leave_limit_days) for leave in grant.leaves]
    found = [d for d in (grant.service_ended_on, *ends) if d is not None]
    return min(found) if found else None


def credited_day(grant: GrantFacts, on: date) -> date:
    """The day the schedule has reached by ``on``: stopped at the end of employment, and held
    back by the days of leave without vesting credit (RD ISO ¶7(e))."""
    end = employment_end(grant)
    day = min(on, end) if end is not None else on
    if not grant.leave_credit_by_designation:
        return day
    # Days of leave without credit, each counted once (leaves on record may overlap).
    spans = sorted(
        (max(leave.starts_on, grant.grant_date), min(leave.ends_on or day, day))
        for leave in grant.leaves
        if not leave.vesting_credit
    )
    unpaid, counted_to = 0, date.min
    for first, last in spans:
        first = max(first, counted_to + timedelta(days=1))
        if last >= first:
            unpaid += (last - first).days + 1
            counted_to = last
    return day - timedelta(days=unpaid)


def vested_ratio(schedule: VestedRatio, day: date) -> Fraction:
    """RD ISO ¶1(g) on the credited ``day``."""
    if day < schedule.initial_vesting_date:
        return Fraction(0)
    months = full_months(schedule.initial_vesting_date, day)
    return min(Fraction(1), Fraction(1 + months, schedule.denominator))


def _vested_on(grant: GrantFacts, day: date) -> int:
    schedule = grant.vesting
    if isinstance(schedule, Installments):
        return min(grant.shares, sum(i.shares for i in schedule.installments if i.on <= day))
    ratio = vested_ratio(schedule, day)
    return grant.shares * ratio.numerator // ratio.denominator


def vested(grant: GrantFacts, on: date) -> int:
    """Shares vested on ``on`` (FMP §3(a); RD ISO ¶1(g)), whether exercised or not; none before
    the grant itself."""
    if on < grant.grant_date:
        return 0
    return _vested_on(grant, credited_day(grant, on))


def _open_to_exercise(grant: GrantFacts, on: date) -> int:
    """Shares the schedule makes exercisable on ``on``, nothing subtracted: vested, from the
    Initial Exercise Date (RD ISO ¶4(a), RD NSO ¶1(e)); after employment ends, what was on its
    last day (FMP §5(a), RD ISO ¶7(a))."""
    end = employment_end(grant)
    day = min(on, end) if end is not None else on
    start = grant.initial_exercise_date
    if start is not None and day < start:
        return 0
    return vested(grant, day)


def exercisable(grant: GrantFacts, on: date) -> int:
    """Shares that may be bought on ``on`` under the schedule, less the shares previously
    acquired (RD ISO ¶4(a)) and those held for exercises under way."""
    return max(0, _open_to_exercise(grant, on) - grant.claimed)


def room(grant: GrantFacts, on: date) -> int:
    """The most a notice effective on ``on`` may still claim, so that on that day and on the
    day of every claim effective later, the claims effective by then stay within what the
    schedule makes exercisable then (FMP §3(a); RD ISO ¶4(a): "less the number of shares
    previously acquired").

    Checked against every later claim too, the answer does not depend on the order the
    exercises were entered in: a set of claims that passes stays valid when one more passes,
    so an exercise judged again (its acts replayed) is not refused for a claim entered after
    it. Shares exercised without a dated claim count from the start."""
    undated = max(0, grant.exercised - sum(c.shares for c in grant.claims if c.exercised))
    days = sorted({on} | {c.on for c in grant.claims if c.on > on})
    free = min(
        _open_to_exercise(grant, d) - undated - sum(c.shares for c in grant.claims if c.on <= d)
        for d in days
    )
    return max(0, free)


def explain(grant: GrantFacts, on: date) -> str:
    """How ``vested`` reached its number, citing the schedule's clause."""
    schedule = grant.vesting
    day = credited_day(grant, on)
    held = f" (schedule at {day})" if day != on else ""
    if isinstance(schedule, Installments):
        due = [i for i in schedule.installments if i.on <= day]
        parts = " + ".join(f"{i.shares} from {i.on}" for i in due) or "no installment yet"
        return f"{schedule.clause}: on {on}{held}: {parts} → {vested(grant, on)} of {grant.shares}"
    den = schedule.denominator
    if day < schedule.initial_vesting_date:
        how, counted = f"before the Initial Vesting Date {schedule.initial_vesting_date}", 0
    else:
        months = full_months(schedule.initial_vesting_date, day)
        how = f"1/{den} on the Initial Vesting Date {schedule.initial_vesting_date} + {months} full months"  # noqa: E501
        counted = min(1 + months, den)
    return (
        f"{schedule.clause}: on {on}{held}: {how} → Vested Ratio {counted}/{den} × {grant.shares} "
        f"= {vested(grant, on)}"
    )
