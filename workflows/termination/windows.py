"""The post-termination exercise window as pure functions (docs/rules.md §5).

Each function returns a ``Deadline`` whose derivation a person can check by hand
("FMP §5(a): terminated 2027-01-15 + 30 days → 2027-02-14 23:59 PST"). A window never runs past
the option's expiration (FMP §5(a)–(b): the Option Expiration Date; RD ISO ¶7(a): the Option
Term Date); when that cap is what ends it, the derivation says so and keeps both parts.

"N months after" is the same day number N months later, clamped to the month's last day
(a termination on 31 January under a three-month window ends on 30 April).
"""

from __future__ import annotations

from datetime import date, datetime, time

from dateutil.relativedelta import relativedelta

from workflows.calendar import CompanyCalendar, Deadline, combine
from workflows.kit.clauses import enforces
from workflows.terms.termination import PostTerminationWindow, TerminationTerms


def _start(cal: CompanyCalendar, day: date) -> datetime:
    return datetime.combine(day, time(12), tzinfo=cal.zone)  # any time of the local day


def raw_window(
    cal: CompanyCalendar,
    window: PostTerminationWindow,
    terminated_on: date,
    effective_at: datetime | None = None,
) -> Deadline:
    """The window itself, before the cap. ``effective_at``: when an immediate termination took
    effect (FMP §5(c)); without it, the start of the day employment ended."""
    if window.immediately:
        at = effective_at or datetime.combine(terminated_on, time(0), tzinfo=cal.zone)
        return Deadline(
            at,
            window.clause,
            f"{window.clause}: {window.label} {terminated_on}: the option terminated "
            f"immediately → {cal.fmt(at)}",
        )
    start = _start(cal, terminated_on)
    if window.months is not None:
        return cal.months_after(start, window.months, clause=window.clause, what=window.label)
    assert window.days is not None
    return cal.days_after(start, window.days, clause=window.clause, what=window.label)


@enforces("termination.cap", "termination.expiration_name")
def capped(
    terms: TerminationTerms, cal: CompanyCalendar, window: Deadline, end: Deadline
) -> Deadline:
    """``window`` unless the option expires first; then the expiration, saying why."""
    if window.at <= end.at:
        return Deadline(window.at, window.clause, window.derivation, (window, end))
    clause = terms.cap.clause
    return Deadline(
        end.at,
        clause,
        f"{clause}: {window.derivation}, but never after the {terms.expiration_name.value} "
        f"{cal.local_date(end.at)} → {cal.fmt(end.at)}",
        (window, end),
    )


@enforces("termination.windows")
def window_end(
    terms: TerminationTerms,
    cal: CompanyCalendar,
    reason: str,
    terminated_on: date,
    end: Deadline,
    effective_at: datetime | None = None,
) -> Deadline:
    """The end of the post-termination window for ``reason`` (FMP §5, RD ISO ¶7(a)), capped."""
    window = terms.window_for(reason)
    if window is None:
        raise LookupError(f"no window for {reason}")
    return capped(terms, cal, raw_window(cal, window, terminated_on, effective_at), end)


@enforces("termination.death_after_termination")
def counts_as_death(terms: TerminationTerms, terminated_on: date, died_on: date) -> bool:
    """RD ISO ¶7(a): a death within three months after termination is a termination on account
    of death."""
    rule = terms.death_after_termination
    if rule is None or died_on < terminated_on:
        return False
    return died_on <= terminated_on + relativedelta(months=rule.within_months)


@enforces("termination.prevented_by_law")
def law_extension(
    terms: TerminationTerms,
    cal: CompanyCalendar,
    normal: Deadline,
    notified_on: date | None,
    end: Deadline,
) -> Deadline:
    """RD ISO ¶7(c): exercise prevented by law (¶4(f)) stays possible until three months after
    the Company's notice that it is exercisable, no later than the Option Term Date. Until the
    notice, only the Option Term Date bounds it. Never shorter than the normal window."""
    rule = terms.prevented_by_law
    assert rule is not None
    if notified_on is None:
        pending = Deadline(
            end.at,
            rule.clause,
            f"{rule.clause}: exercise prevented by law; open until {rule.months} months after "
            f"the Company's notice that it is exercisable, which has not been given → "
            f"{cal.fmt(end.at)}",
        )
        return combine("later", normal, pending, clause=rule.clause, what="extended")
    after = cal.months_after(
        _start(cal, notified_on),
        rule.months,
        clause=rule.clause,
        what="the Company notified that the option is exercisable",
    )
    later = combine("later", normal, after, clause=rule.clause, what="extended")
    return capped(terms, cal, later, end)


@enforces("termination.section_16b")
def section_16b_extension(
    terms: TerminationTerms,
    cal: CompanyCalendar,
    normal: Deadline,
    terminated_on: date,
    exposure_ends_on: date | None,
    end: Deadline,
) -> Deadline:
    """RD ISO ¶7(d): the earliest of the 10th day after the Section 16(b) exposure ends, the
    190th day after termination and the Option Term Date (an extension: never shorter than the
    normal window). An exposure whose end is not yet known is bounded by the other two."""
    rule = terms.section_16b
    assert rule is not None
    parts = [
        cal.days_after(
            _start(cal, terminated_on),
            rule.days_after_termination,
            clause=rule.clause,
            what="employment terminated",
        ),
        end,
    ]
    if exposure_ends_on is not None:
        parts.insert(
            0,
            cal.days_after(
                _start(cal, exposure_ends_on),
                rule.days_after_exposure,
                clause=rule.clause,
                what="Section 16(b) exposure ended",
            ),
        )
    earliest = combine("earliest", *parts, clause=rule.clause, what="Section 16(b) exposure")
    return combine("later", normal, earliest, clause=rule.clause, what="extended")
