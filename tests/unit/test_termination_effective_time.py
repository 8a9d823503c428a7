"""Issue 14 in the termination: acts are judged by when they took effect, not when entered.

A death within three months after the termination (RD ISO ¶7(a)) recorded after the ordinary
window closed gets the window it would have had if recorded on time: twelve months from the
termination, the closing withdrawn and named by a reconciliation item.
"""

from __future__ import annotations

from typing import Any

from fact_flow import FMP, RD_ISO
from kind_flow import at, types
from test_termination_kind import fmp_facts, rd_2027, terminate

from workflows.kit.timeline import TIMELINE

DEATH = {"died_on": "2027-04-20"}


def _resigned() -> Any:
    return terminate(
        rd_2027(), RD_ISO, "2027-02-01T09:00", reason="without_cause", terminated_on="2027-01-31"
    )


def _without_timeline(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k != TIMELINE}


def test_a_death_recorded_after_the_window_closed_counts_from_its_own_date() -> None:
    on_time = _resigned()
    on_time.send("record_death", "owner", "2027-04-21T09:00", DEATH)

    late = _resigned()
    late.fire("exercise_window_end")  # 2027-04-30: the ordinary three months passed
    d = late.send("record_death", "owner", "2027-06-10T09:00", DEATH)

    assert late.state == on_time.state == "window_open"
    assert _without_timeline(late.data) == _without_timeline(on_time.data)
    assert late.deadline("exercise_window_end") == at("2028-01-31T23:59:59.999999")
    [item] = late.data[TIMELINE]["reconciliation"]
    assert item["kind"] == "withdrawn" and item["fact"]["timer"] == "exercise_window_end"
    assert item["clause"] == "RD ISO ¶7(a)"
    assert item["contradicted_by"]["effective_at"] == at("2027-04-20T23:59:59.999999").isoformat()
    assert "fact_voided" in types(d) and "termination_deemed_on_account_of_death" in types(d)


def test_a_death_on_the_day_of_the_termination_comes_after_it() -> None:
    # Both dated the same day: each takes effect at its end, the termination ranked first.
    flow = _resigned()
    flow.send("record_death", "owner", "2027-02-02T09:00", {"died_on": "2027-01-31"})
    assert flow.data["reason"] == "death" and flow.state == "window_open"
    effective = {a["command"]: a["effective_at"] for a in flow.data[TIMELINE]["acts"]}
    assert effective["record_death"] == effective["terminate_service"]


def test_a_termination_takes_effect_at_the_end_of_its_day() -> None:
    flow = _resigned()
    [act] = flow.data[TIMELINE]["acts"]
    assert act["effective_at"] == at("2027-01-31T23:59:59.999999").isoformat()


def test_a_leave_over_the_limit_takes_effect_on_its_91st_day() -> None:
    flow = terminate(
        rd_2027(), RD_ISO, "2027-05-01T09:00", reason="leave_over_limit",
        leave_started_on="2027-01-01",
    )  # fmt: skip
    [act] = flow.data[TIMELINE]["acts"]
    assert act["effective_at"] == at("2027-04-01T23:59:59.999999").isoformat()


def test_the_company_marks_the_withdrawn_closing_reconciled() -> None:
    flow = _resigned()
    flow.fire("exercise_window_end")
    flow.send("record_death", "owner", "2027-06-10T09:00", DEATH)
    d = flow.send("reconcile_termination", "board", "2027-06-11T09:00", {"item": "R1"})
    assert types(d) == ["reconciliation_closed"] and flow.state == "window_open"


def test_a_termination_for_cause_takes_effect_when_the_option_ends() -> None:
    flow = terminate(
        fmp_facts(), FMP, "2027-01-16T09:00", reason="for_cause", terminated_on="2027-01-15"
    )
    [act] = flow.data[TIMELINE]["acts"]
    assert act["effective_at"] == at("2027-01-15T00:00").isoformat()
    assert flow.data["closed"]["at"] == act["effective_at"]
