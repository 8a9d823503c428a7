"""Calendar arithmetic for legal deadlines (docs/rules.md §9)."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from test_rofr_harness import at

from workflows.calendar import CompanyCalendar, Deadline, combine, stamp

CAL = CompanyCalendar()  # America/Los_Angeles, US federal holidays


def test_n_days_after_ends_at_the_end_of_the_nth_local_day() -> None:
    d = CAL.days_after(
        at("2026-03-02T10:00"), 30, clause="FMP §6(d)(iii)", what="Disposition Notice received"
    )
    assert d.at == at("2026-04-01T23:59:59.999999")
    assert d.derivation == (
        "FMP §6(d)(iii): Disposition Notice received 2026-03-02 + 30 days → 2026-04-01 23:59 PDT"
    )


def test_days_count_from_the_local_date_not_the_utc_date() -> None:
    # 2026-03-02 20:00 PST is already 2026-03-03 in UTC; the company's day is still the 2nd
    d = CAL.days_after(
        datetime.fromisoformat("2026-03-03T04:00:00+00:00"), 30, clause="c", what="w"
    )
    assert d.at == at("2026-04-01T23:59:59.999999")


def test_120_days_after_delivery() -> None:
    d = CAL.days_after(
        at("2026-03-02T11:00"), 120, clause="RD ISO ¶11(e)", what="Transfer Notice delivered"
    )
    assert d.at.date() == date(2026, 6, 30)


def test_business_days_skip_weekends_and_us_federal_holidays() -> None:
    # from Mon 2026-06-15: Juneteenth (Fri 06-19) and Independence Day observed (Fri 07-03)
    d = CAL.business_days_after(at("2026-06-15T09:00"), 30, clause="FMP §6(d)(iii)", what="x")
    assert d.at == at("2026-07-29T23:59:59.999999")
    weekends_only = CompanyCalendar(holidays="")
    assert weekends_only.business_days_after(
        at("2026-06-15T09:00"), 30, clause="c", what="x"
    ).at == at("2026-07-27T23:59:59.999999")
    assert "30 business days (US holidays)" in d.derivation


def test_extra_holidays_and_business_day_checks() -> None:
    cal = CompanyCalendar(extra_holidays=(date(2026, 12, 24),))
    assert not cal.is_business_day(date(2026, 12, 24))
    assert not cal.is_business_day(date(2026, 12, 25))
    assert not cal.is_business_day(date(2026, 12, 26))  # Saturday
    assert cal.is_business_day(date(2026, 12, 23))


def test_months_after_clamps_to_the_last_day_of_the_month() -> None:
    d = CAL.months_after(at("2026-01-31T12:00"), 1, clause="c", what="x")
    assert d.at.date() == date(2026, 2, 28)
    assert CAL.months_after(at("2026-03-15T12:00"), 3, clause="c", what="x").at.date() == date(
        2026, 6, 15
    )


def test_tenth_anniversary_less_one_day() -> None:
    d = CAL.anniversary_less_one_day(date(1995, 5, 23), 10, clause="RD ISO ¶1(h)", what="grant")
    assert d.at.date() == date(2005, 5, 22)
    leap = CAL.anniversary_less_one_day(date(2000, 2, 29), 10, clause="RD ISO ¶1(h)", what="grant")
    assert leap.at.date() == date(2010, 2, 27)


def test_combine_picks_the_later_or_earliest_and_keeps_every_part() -> None:
    a = CAL.days_after(at("2026-03-02T10:00"), 30, clause="A", what="a")
    b = CAL.days_after(at("2026-03-02T10:00"), 45, clause="B", what="b")
    later = combine("later", a, b, clause="C", what="closing")
    assert later.at == b.at and later.parts == (a, b)
    assert later.derivation.endswith("→ 2026-04-16 23:59 PDT")
    earliest = combine("earliest", a, b, clause="C", what="lapse")
    assert earliest.at == a.at
    with pytest.raises(ValueError):
        combine("later", clause="C", what="nothing")


def test_deadline_round_trips_through_a_dict_and_an_act_at_the_deadline_is_on_time() -> None:
    a = CAL.days_after(at("2026-03-02T10:00"), 30, clause="A", what="a")
    both = combine(
        "later",
        a,
        CAL.days_after(at("2026-03-05T10:00"), 30, clause="B", what="b"),
        clause="C",
        what="w",
    )
    assert Deadline.from_dict(both.as_dict()) == both
    assert not a.passed(a.at)
    assert a.passed(at("2026-04-02T00:00"))


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="zone"):
        CAL.days_after(datetime(2026, 3, 2, 10), 30, clause="c", what="w")
    with pytest.raises(ValueError, match="zone"):
        CAL.fmt(datetime(2026, 3, 2, 10))


def test_close_of_business_and_formatting() -> None:
    cob = CAL.close_of_business(date(2026, 11, 2))
    assert cob == at("2026-11-02T17:00")
    assert CAL.fmt(cob) == "2026-11-02 17:00 PST"
    d = CAL.at(cob, clause="FMP §6(c)(ii)", what="repurchase date, close of business")
    assert d.derivation == "FMP §6(c)(ii): repurchase date, close of business 2026-11-02 17:00 PST"


def test_combine_states_the_chosen_instant_even_when_a_part_explains_a_notice() -> None:
    """FMP §6(d)(iii): the later of the 30th business day and the 15th day after valuation."""
    cal = CompanyCalendar()
    exercise = cal.business_days_after(
        at("2026-11-16T11:00"), 30, clause="FMP §6(d)(iii)", what="Exercise Notice delivered"
    )
    mailed = Deadline(
        exercise.at,
        exercise.clause,
        exercise.derivation + " (deposited 2026-11-16 11:00 PST + 72 hours → 2026-11-19 11:00 PST)",
    )
    valued = cal.days_after(at("2026-11-20T09:00"), 15, clause="FMP §6(d)(iii)", what="valued")
    closing = combine("later", mailed, valued, clause="FMP §6(d)(iii)", what="closing")
    assert closing.at == mailed.at
    assert closing.derivation.endswith(f"→ {cal.fmt(mailed.at)}")


@pytest.mark.parametrize(
    "when",
    [
        at("2026-03-02T10:07"),
        at("2026-11-01T01:30"),  # the hour repeated when daylight saving ends
        datetime.fromisoformat("2026-07-04T23:59:59.999999+05:30"),
        datetime.fromisoformat("0999-01-02T03:04:00+00:00"),  # strftime leaves %Y unpadded
        datetime.fromisoformat("9999-12-31T23:59:00+00:00"),
    ],
)
def test_a_time_is_stated_as_strftime_states_it(when: datetime) -> None:
    local = CAL.local(when) if when.year > 1000 else when
    assert stamp(local) == f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
    if when.year > 1000:
        assert CAL.fmt(when) == stamp(local)
