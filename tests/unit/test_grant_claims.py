"""The claims of a grant's exercises (docs/design.md, "Concurrent exercises of one grant"):
what a notice may still claim on its day (``vesting.room``), whatever the order the exercises
were entered in; the register view's reading of them; the grant recording the shares acquired."""

from __future__ import annotations

from datetime import date
from typing import Any

from fact_flow import FMP, FactFlow, fmp_grant
from hypothesis import given, settings
from hypothesis import strategies as st
from test_grant_vesting import fmp_grant as fmp_facts

from workflows.grants.facts import Claim, GrantFacts
from workflows.grants.register import claim_of, exercised_shares
from workflows.grants.vesting import exercisable, room


def with_claims(g: GrantFacts, *claims: tuple[str, int, str, bool]) -> GrantFacts:
    made = [Claim(exercise=e, shares=s, on=date.fromisoformat(on), exercised=x)
            for e, s, on, x in claims]  # fmt: skip
    exercised = sum(c.shares for c in made if c.exercised)
    return g.model_copy(update={"claims": made, "exercised": exercised})


def test_a_claim_under_way_holds_its_shares_from_every_later_notice() -> None:
    g = with_claims(fmp_facts(), ("a", 200, "2000-02-01", False))
    assert exercisable(g, date(2000, 3, 1)) == 50  # 250 vested, 200 held
    assert room(g, date(2000, 3, 1)) == 50
    assert g.reserved == 200 and g.exercised == 0


def test_a_notice_dated_before_a_later_claim_must_leave_that_claim_its_shares() -> None:
    """FMP §3(a): 250 on 2000-01-15, 500 by 2001-01-15. A claim of 400 on 2001-02-01 leaves a
    notice effective on 2000-06-01 only 100: with it, 500 would be claimed by 2001-02-01."""
    g = with_claims(fmp_facts(), ("later", 400, "2001-02-01", False))
    assert room(g, date(2000, 6, 1)) == 100
    assert room(g, date(2001, 3, 1)) == 100


def test_an_exercise_judged_again_is_not_refused_for_a_claim_entered_after_it() -> None:
    """A takes 250 on 2000-02-01 (all then exercisable); B then takes 250 on 2001-02-01. A's
    notice, judged again with B's claim, still fits: the answer is the same in either order."""
    base = fmp_facts()
    assert room(with_claims(base, ("a", 250, "2000-02-01", False)), date(2001, 2, 1)) == 250
    assert room(with_claims(base, ("b", 250, "2001-02-01", False)), date(2000, 2, 1)) == 250


@st.composite
def claims(draw: st.DrawFn) -> list[tuple[int, date]]:
    days = st.dates(min_value=date(1999, 6, 1), max_value=date(2003, 1, 1))
    return draw(st.lists(st.tuples(st.integers(1, 400), days), min_size=1, max_size=6))


@settings(max_examples=200, deadline=None)
@given(asked=claims(), order=st.randoms())
def test_claims_accepted_in_any_order_stay_valid_and_each_passes_again(
    asked: list[tuple[int, date]], order: Any
) -> None:
    """Each claim accepted when it fits ``room``; then every accepted claim, judged again with
    all the others, still fits, and on no day do the claims exceed what is exercisable."""
    base = fmp_facts()
    accepted: list[Claim] = []
    entries = list(enumerate(asked))
    order.shuffle(entries)
    for i, (shares, on) in entries:
        g = base.model_copy(update={"claims": accepted})
        if shares <= room(g, on):
            accepted.append(Claim(exercise=str(i), shares=shares, on=on))
    for c in accepted:
        others = [o for o in accepted if o is not c]
        assert c.shares <= room(base.model_copy(update={"claims": others}), c.on)
    for day in {c.on for c in accepted}:
        held = sum(c.shares for c in accepted if c.on <= day)
        assert held <= exercisable(base, day)


def test_the_register_reads_claims_from_the_exercises_rows() -> None:
    held = {"claim": {"shares": 300, "on": "2026-03-02"}}
    assert claim_of("e1", "pending_delivery", held) == Claim(
        exercise="e1", shares=300, on=date(2026, 3, 2)
    )
    assert claim_of("e1", "completed", held).exercised  # type: ignore[union-attr]
    assert claim_of("e1", "rejected", held) is None  # a rejected exercise holds nothing
    assert claim_of("e1", "withdrawn", held) is None
    assert claim_of("e1", "new", {}) is None


def test_shares_exercised_count_the_grants_record_once_and_never_the_readers_own() -> None:
    done = Claim(exercise="e1", shares=300, on=date(2026, 3, 2), exercised=True)
    data = {"exercises": {"e1": {"shares": 300}, "e2": {"shares": 100}}, "exercised": 400}
    assert exercised_shares(data, [done], reader="r") == 400
    assert exercised_shares(data, [], reader="e2") == 300  # e1 recorded, e2 is the reader
    assert exercised_shares({"exercised": 50}, [], reader="r") == 50  # a count without ids


def _granted() -> FactFlow:
    flow = FactFlow("grant", FMP, facts={})
    flow.send("grant_option", "board", "2026-01-15T10:00", fmp_grant())
    return flow


def _record(flow: FactFlow, exercise: str, shares: int, now: str) -> Any:
    return flow.send("record_exercised_shares", "system", now,
                     {"shares": shares, "exercised_on": now[:10], "certificate": "C-1"},
                     reference=exercise)  # fmt: skip


def test_the_grant_records_the_shares_its_exercises_acquired_even_once_expired() -> None:
    flow = _granted()
    d = _record(flow, "ex-1", 250, "2027-02-01T10:00")
    assert [e.type for e in d.events] == ["exercised_shares_recorded"]
    assert flow.data["exercised"] == 250
    flow.fire("option_expiry")
    assert flow.state == "expired"
    # A notice effective before the expiry, its certificate issued after it.
    _record(flow, "ex-2", 250, "2036-01-20T10:00")
    assert flow.state == "expired" and flow.data["exercised"] == 500
    too_many = {"shares": 600, "exercised_on": "2036-01-10"}
    refused = flow.refused(
        "record_exercised_shares", "system", "2036-01-21T10:00", too_many, reference="ex-3"
    )
    assert "1,100 shares exercised would exceed the 1,000 granted" in refused.reason


def test_no_party_but_an_exercise_records_exercised_shares() -> None:
    refused = _granted().refused("record_exercised_shares", "company", "2027-02-01T10:00",
                                 {"shares": 10, "exercised_on": "2027-02-01"})  # fmt: skip
    assert refused.code == "not_authorised"
