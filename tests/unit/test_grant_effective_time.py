"""Issue 14 in the grant: a leave is judged by the day it started, not the day it was entered."""

from __future__ import annotations

from kind_flow import at, event
from test_grant_kind import granted

from workflows.kit.timeline import TIMELINE


def test_a_leave_begun_before_expiry_is_recorded_though_entered_after_it() -> None:
    flow = granted()
    flow.fire("option_expiry")  # the end of 2003-02-28
    assert flow.state == "expired"
    d = flow.send("record_leave", "company", "2003-03-10T09:00", {"starts_on": "2002-12-02"})
    # Not final: an exercise noticed before the expiry may still record its shares on it.
    assert flow.state == "expired" and not d.final
    assert [x["starts_on"] for x in flow.data["leaves"]] == ["2002-12-02"]
    assert event(d, "leave_recorded")["employment_ends_on"] == "2003-03-02"
    assert flow.data[TIMELINE]["reconciliation"] == []  # the expiry stands: nothing to reconcile


def test_a_leave_takes_effect_at_the_start_of_its_first_day() -> None:
    flow = granted()
    flow.send("record_leave", "company", "1994-01-12T09:00", {"starts_on": "1994-01-10"})
    act = flow.data[TIMELINE]["acts"][-1]
    assert act["effective_at"] == at("1994-01-10T00:00").isoformat()
