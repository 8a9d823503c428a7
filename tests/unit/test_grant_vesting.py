"""Vesting and exercisability: FMP's cumulative installments, RD's Vested Ratio by full months,
the Initial Exercise Date, leaves of absence; and the properties every schedule keeps."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.grants.facts import GrantFacts
from workflows.grants.vesting import exercisable, explain, full_months, vested


def rd_grant(**overrides: Any) -> GrantFacts:
    """An RD ISO grant like the seed's: Initial Vesting Date 1993-04-30, 4,800 shares."""
    raw: dict[str, Any] = {
        "grant_id": "rd-1",
        "optionee": "carol",
        "plan": "raydream-1992",
        "option_type": "iso",
        "shares": 4800,
        "exercise_price": "0.20",
        "grant_date": "1993-03-01",
        "expiration_date": "2003-02-28",
        "expires_at": "2003-02-28T23:59:59.999999-08:00",
        "vesting": {
            "kind": "vested_ratio",
            "initial_vesting_date": "1993-04-30",
            "clause": "RD ISO ¶1(g)",
        },
        "initial_exercise_date": "1993-04-30",
        "leave_limit_days": 90,
        "leave_credit_by_designation": True,
        "leave_clause": "RD ISO ¶7(e)",
    }
    raw.update(overrides)
    return GrantFacts.model_validate(raw)


def fmp_grant(**overrides: Any) -> GrantFacts:
    raw: dict[str, Any] = {
        "grant_id": "fmp-1",
        "optionee": "alice",
        "plan": "fmp-1998",
        "option_type": "nso",
        "shares": 1000,
        "exercise_price": "1.50",
        "grant_date": "1999-01-15",
        "expiration_date": "2009-01-15",
        "expires_at": "2009-01-15T23:59:59.999999-08:00",
        "vesting": {
            "kind": "installments",
            "installments": [
                {"on": "2000-01-15", "shares": 250},
                {"on": "2001-01-15", "shares": 250},
                {"on": "2002-01-15", "shares": 500},
            ],
            "clause": "FMP §3(a)",
        },
    }
    raw.update(overrides)
    return GrantFacts.model_validate(raw)


D = date.fromisoformat


# -- RD ISO ¶1(g): the Vested Ratio ------------------------------------------------------------


def test_rd_vested_ratio_is_zero_before_the_initial_vesting_date_and_1_48_on_it() -> None:
    g = rd_grant()
    assert vested(g, D("1993-04-29")) == 0
    assert vested(g, D("1993-04-30")) == 100  # 4,800 × 1/48


def test_rd_adds_1_48_per_full_month_only() -> None:
    g = rd_grant()
    assert vested(g, D("1993-05-29")) == 100  # a month not yet full
    assert vested(g, D("1993-05-30")) == 200
    assert vested(g, D("1993-06-29")) == 200
    assert vested(g, D("1993-06-30")) == 300


def test_rd_vested_ratio_never_exceeds_one() -> None:
    g = rd_grant()
    assert vested(g, D("1997-03-29")) == 4700  # 47/48: 46 full months
    assert vested(g, D("1997-03-30")) == 4800  # 1 + 47 full months = 48/48
    assert vested(g, D("2002-12-31")) == 4800


def test_a_full_month_from_the_31st_ends_on_the_months_last_day() -> None:
    g = rd_grant(
        vesting={
            "kind": "vested_ratio",
            "initial_vesting_date": "1993-01-31",
            "clause": "RD ISO ¶1(g)",
        },
        grant_date="1993-01-01",
    )
    assert full_months(D("1993-01-31"), D("1993-02-28")) == 1
    assert vested(g, D("1993-02-27")) == 100
    assert vested(g, D("1993-02-28")) == 200
    assert vested(g, D("1993-03-30")) == 200
    assert vested(g, D("1993-03-31")) == 300


def test_rd_shares_are_rounded_down_to_whole_shares() -> None:
    g = rd_grant(shares=1000)
    assert vested(g, D("1993-04-30")) == 20  # 1000/48 = 20.83


def test_explain_cites_the_clause_and_the_months() -> None:
    text = explain(rd_grant(), D("1993-06-30"))
    assert text.startswith("RD ISO ¶1(g): on 1993-06-30")
    assert "1/48 on the Initial Vesting Date 1993-04-30 + 2 full months" in text
    assert text.endswith("= 300")


# -- exercisability: RD ISO ¶4(a), RD NSO ¶1(e) -------------------------------------------------


def test_rd_nso_is_exercisable_only_from_one_year_after_grant() -> None:
    # The seed's NSO: granted 1995-05-23, Initial Vesting Date 1995-04-30.
    g = rd_grant(
        option_type="nso",
        grant_date="1995-05-23",
        expiration_date="2005-05-22",
        expires_at="2005-05-22T23:59:59.999999-07:00",
        vesting={
            "kind": "vested_ratio",
            "initial_vesting_date": "1995-04-30",
            "clause": "RD NSO ¶1(g)",
        },
        initial_exercise_date="1996-05-23",
    )
    assert vested(g, D("1995-05-22")) == 0  # before the grant itself
    assert vested(g, D("1995-05-23")) == 100
    assert exercisable(g, D("1996-05-22")) == 0
    assert vested(g, D("1996-05-23")) == 1300  # 1 + 12 full months
    assert exercisable(g, D("1996-05-23")) == 1300


def test_exercised_shares_are_subtracted() -> None:
    g = rd_grant(exercised=250)
    assert exercisable(g, D("1993-06-30")) == 50
    assert exercisable(g, D("1993-05-30")) == 0  # never negative


def test_after_termination_only_what_was_exercisable_on_the_last_day_remains() -> None:
    g = rd_grant(service_ended_on="1993-06-15")
    assert vested(g, D("1994-01-01")) == 200
    assert exercisable(g, D("1993-08-01")) == 200


def test_rd_nso_ended_before_its_initial_exercise_date_keeps_nothing_exercisable() -> None:
    g = rd_grant(initial_exercise_date="1994-03-01", service_ended_on="1993-12-31")
    assert vested(g, D("1994-03-01")) > 0
    assert exercisable(g, D("1994-03-01")) == 0  # RD ISO ¶7(a): exercisable on the last day


# -- FMP §3(a): cumulative installments ---------------------------------------------------------


def test_fmp_installments_are_cumulative() -> None:
    g = fmp_grant()
    assert [vested(g, D(d)) for d in ("2000-01-14", "2000-01-15", "2001-06-01", "2002-01-15")] == [
        0,
        250,
        500,
        1000,
    ]
    assert exercisable(g, D("2001-06-01")) == 500
    assert "250 from 2000-01-15 + 250 from 2001-01-15" in explain(g, D("2001-06-01"))


def test_fmp_vesting_stops_at_termination_installment_on_that_day_included() -> None:
    g = fmp_grant(service_ended_on="2001-01-15")
    assert vested(g, D("2003-01-01")) == 500


# -- RD ISO ¶7(e): leave of absence --------------------------------------------------------------


def test_a_leave_without_vesting_credit_holds_the_schedule_back() -> None:
    leave = {"starts_on": "1993-05-01", "ends_on": "1993-05-30"}  # 30 days
    g = rd_grant(leaves=[leave])
    assert vested(g, D("1993-05-30")) == 100  # without the leave: 200
    assert vested(g, D("1993-06-28")) == 100
    assert vested(g, D("1993-06-29")) == 200  # 30 days later than without the leave


def test_a_designated_leave_earns_vesting_credit() -> None:
    leave = {"starts_on": "1993-05-01", "ends_on": "1993-05-30", "vesting_credit": True}
    assert vested(rd_grant(leaves=[leave]), D("1993-05-30")) == 200


def test_a_leave_over_90_days_ends_employment_on_day_91() -> None:
    leave = {"starts_on": "1993-07-01", "ends_on": "1993-12-31", "vesting_credit": True}
    g = rd_grant(leaves=[leave])
    # day 91 of a leave starting 1 July is 29 September, a day before the 5th full month
    assert vested(g, D("1993-09-29")) == vested(g, D("1995-01-01")) == 500
    assert exercisable(g, D("1995-01-01")) == 500


def test_a_leave_of_90_days_does_not_end_employment() -> None:
    leave = {"starts_on": "1993-07-01", "ends_on": "1993-09-28", "vesting_credit": True}
    assert vested(rd_grant(leaves=[leave]), D("1995-01-01")) > 500


def test_guaranteed_reemployment_keeps_a_long_leave_from_ending_employment() -> None:
    leave = {
        "starts_on": "1993-07-01",
        "ends_on": "1993-12-31",
        "vesting_credit": True,
        "reemployment_guaranteed": True,
    }
    assert vested(rd_grant(leaves=[leave]), D("1995-01-01")) > 500


def test_fmp_leaves_neither_end_employment_nor_hold_vesting_back() -> None:
    # FMP §5(a): the Board decides whether an authorized leave is a termination.
    g = fmp_grant(leaves=[{"starts_on": "1999-06-01", "ends_on": "2000-06-01"}])
    assert vested(g, D("2000-01-15")) == 250


# -- properties ----------------------------------------------------------------------------------

START = date(1993, 1, 1)
days = st.integers(min_value=0, max_value=5000).map(lambda n: START + timedelta(days=n))


@st.composite
def grants(draw: st.DrawFn) -> GrantFacts:
    shares = draw(st.integers(min_value=1, max_value=100_000))
    grant_date = draw(days)
    if draw(st.booleans()):
        parts = draw(st.lists(st.integers(min_value=1, max_value=shares), min_size=1, max_size=6))
        total, installments = 0, []
        for part in parts:
            if total + part > shares:
                break
            total += part
            on = grant_date + timedelta(days=draw(st.integers(0, 2000)))
            installments.append({"on": on, "shares": part})
        installments = installments or [{"on": grant_date, "shares": shares}]
        vesting: dict[str, Any] = {
            "kind": "installments",
            "installments": installments,
            "clause": "FMP §3(a)",
        }
    else:
        ivd = grant_date + timedelta(days=draw(st.integers(-60, 400)))
        vesting = {"kind": "vested_ratio", "initial_vesting_date": ivd, "clause": "RD ISO ¶1(g)"}
    leaves = []
    for _ in range(draw(st.integers(0, 3))):
        starts = grant_date + timedelta(days=draw(st.integers(0, 2000)))
        length = draw(st.none() | st.integers(0, 200))
        leaves.append(
            {
                "starts_on": starts,
                "ends_on": None if length is None else starts + timedelta(days=length),
                "vesting_credit": draw(st.booleans()),
                "reemployment_guaranteed": draw(st.booleans()),
            }
        )
    ended = draw(st.none() | st.integers(0, 3000))
    expiration = grant_date + timedelta(days=3652)
    return GrantFacts.model_validate(
        {
            "grant_id": "g",
            "optionee": "o",
            "plan": "p",
            "option_type": "nso",
            "shares": shares,
            "exercised": draw(st.integers(0, shares)),
            "exercise_price": "1",
            "grant_date": grant_date,
            "expiration_date": expiration,
            "expires_at": f"{expiration}T23:59:59-08:00",
            "vesting": vesting,
            "initial_exercise_date": draw(st.none() | st.just(grant_date + timedelta(days=365))),
            "leaves": leaves,
            "leave_limit_days": draw(st.none() | st.just(90)),
            "leave_credit_by_designation": draw(st.booleans()),
            "service_ended_on": None if ended is None else grant_date + timedelta(days=ended),
        }
    )


@settings(max_examples=300, deadline=None)
@given(grants(), days, days)
def test_vested_and_exercisable_are_monotone_bounded_and_net_of_exercises(
    g: GrantFacts, a: date, b: date
) -> None:
    early, late = min(a, b), max(a, b)
    assert 0 <= vested(g, early) <= vested(g, late) <= g.shares
    assert 0 <= exercisable(g, early) <= exercisable(g, late) <= g.shares - g.exercised
    unexercised = g.model_copy(update={"exercised": 0})
    assert exercisable(g, late) == max(0, exercisable(unexercised, late) - g.exercised)
    assert exercisable(g, late) <= vested(g, late)
