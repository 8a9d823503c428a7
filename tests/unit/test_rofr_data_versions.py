"""Rows of every older data version load, upgrade and finish their workflow.

``tests/fixtures/rofr_rows/v1-*.json`` are ROFR rows in every state as the code wrote them
before rows carried a ``schema_version`` (version 1): state, data and the pending timers.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from kind_flow import CATALOG

from workflows import registry
from workflows.kernel import Actor, Command, Party, Refused, TimerFired
from workflows.rofr.data import SCHEMA, RofrData
from workflows.rofr.machine import CHART

ROWS = sorted((Path(__file__).parents[1] / "fixtures" / "rofr_rows").glob("v1-*.json"))
ROFR = registry.kind("rofr")
LATER = datetime.fromisoformat("2027-06-01T12:00:00-07:00")
BEFORE_LATER = "2027-05-01T12:00:00-07:00"

# When no timer is left, the act that ends a workflow in each state (with its party).
LAPSE = {
    "fmp-1998-nso": {"event": "holders_of_record_exceeded", "holders_of_record": 501},
    "raydream-1992-iso": {"event": "transfer_of_control", "successor_assumes_plan": False},
    "raydream-1992-nso": {"event": "transfer_of_control", "successor_assumes_plan": False},
}


def _ending(terms_id: str, state: str, data: dict[str, Any]) -> tuple[str, Party, dict[str, Any]]:
    if state == "valuation":
        if data["valuation"].get("appraisers"):
            return (
                "record_valuation",
                Party.COMPANY,
                {"cash_value": "99", "valued_at": BEFORE_LATER},
            )
        appraisers = {"owner_appraiser": "O", "company_appraiser": "C", "third_appraiser": "T"}
        return "appoint_appraisers", Party.COMPANY, {**appraisers, "appointed_at": BEFORE_LATER}
    if state == "exempt_transfer_pending" and terms_id.startswith("fmp"):
        return "refuse_consent", Party.COMPANY, {"reason": "not a gift to issue"}
    if state == "escrow_settlement":
        return "release_escrow", Party.ESCROW_AGENT, {"delivered_at": BEFORE_LATER}
    if state == "transfer_pending_approval":
        return "approve_transfer", Party.COMPANY, {}
    if state == "exempt_transfer_pending":
        return "complete_exempt_transfer", Party.OWNER, {"transferred_at": BEFORE_LATER}
    if state == "closing":
        return "complete_closing", Party.COMPANY, {"closed_at": BEFORE_LATER}
    return "record_lapse_event", Party.COMPANY, {**LAPSE[terms_id], "occurred_at": BEFORE_LATER}


def test_there_is_a_row_of_every_state_but_new() -> None:
    states = {json.loads(p.read_text())["state"] for p in ROWS}
    assert states == set(CHART.states) - {"new"}


@pytest.mark.parametrize("path", ROWS, ids=[p.stem for p in ROWS])
def test_a_version_1_row_loads_upgrades_and_finishes_its_workflow(path: Path) -> None:
    row = json.loads(path.read_text())
    assert "schema_version" not in row["data"]
    loaded = SCHEMA.load(row["data"], rule="test")
    assert loaded["schema_version"] == 3
    RofrData.model_validate(loaded)

    terms = CATALOG.get(row["terms_id"])
    state, data = row["state"], row["data"]
    timers = {n: datetime.fromisoformat(at) for n, at in row["timers"].items()}
    final = CHART.finals()
    for _ in range(12):
        if state in final:
            break
        if timers:
            name = min(timers, key=lambda n: timers[n])
            d = ROFR.decide(state, data, TimerFired(name, timers.pop(name)), LATER, terms)
        else:
            command, party, payload = _ending(row["terms_id"], state, data)
            d = ROFR.decide(state, data, Command(command, Actor(party, "x"), payload), LATER, terms)
        assert d.data["schema_version"] == 3
        state, data = d.state, dict(d.data)
        for name in d.cancel_timers:
            timers.pop(name, None)
        timers.update({t.name: t.deadline.at for t in d.set_timers})
        if d.final:
            timers.clear()
    assert state in final, (path.stem, state)


def test_a_row_of_a_version_this_code_does_not_know_is_refused_not_guessed() -> None:
    with pytest.raises(Refused) as e:
        SCHEMA.load({"schema_version": 9, "holder": "alice"}, rule="equityflow stored data")
    assert e.value.code == "unreadable_data" and "version 9" in e.value.reason
    with pytest.raises(Refused) as e:
        SCHEMA.load({"holder": 5}, rule="equityflow stored data")
    assert "holder" in e.value.reason
