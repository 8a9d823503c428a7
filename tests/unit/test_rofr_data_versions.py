"""Rows of every older data version load, upgrade and finish their workflow.

``tests/fixtures/rofr_rows/v1-*.json`` are ROFR rows in every state as the code wrote them
before rows carried a ``schema_version`` (version 1): state, data and the pending timers.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from kind_flow import CATALOG
from test_rofr_harness import FMP_COMPLIANCE

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
        valuation, at = data["valuation"], BEFORE_LATER
        if valuation.get("appraisers"):
            return "record_valuation", Party.COMPANY, {"cash_value": "99", "valued_at": at}
        # FMP §6(d)(iii): each side selects its own appraiser; the two designate a third.
        selections = valuation.get("selections") or {}
        if "owner" not in selections:
            return "select_owner_appraiser", Party.OWNER, {"appraiser": "O", "selected_at": at}
        if "company" not in selections:
            return "select_company_appraiser", Party.COMPANY, {"appraiser": "C", "selected_at": at}
        return "record_third_appraiser", Party.OWNER, {"appraiser": "T", "designated_at": at}
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


def test_a_row_without_a_timeline_replays_from_its_stored_state() -> None:
    """Version 2 and older rows carry no act log: the timeline starts from the row as stored
    (its acts are not reordered); the acts entered after the upgrade are."""
    row = json.loads((ROWS[0].parent / "v1-fmp-1998-nso-owner_sale_window.json").read_text())
    terms = CATALOG.get(row["terms_id"])
    sale = {"buyer": {"name": "Eve"}, "shares": 1000, "price_per_share": "2.50",
            "sold_at": "2026-04-05T10:00:00-07:00", "compliance": FMP_COMPLIANCE}  # fmt: skip
    now = datetime.fromisoformat("2026-04-06T09:00:00-07:00")
    report = Command("report_third_party_sale", Actor(Party.OWNER), sale)
    sold = ROFR.decide(row["state"], row["data"], report, now, terms)
    assert sold.state == "sold_to_third_party"
    assert sold.data["timeline"]["base"]["state"] == "owner_sale_window"
    # A timely Exercise Notice (2026-03-30, inside the election window) entered afterwards
    # replays from the stored row: the sale is void.
    notice = {"method": "personal", "delivered_at": "2026-03-30T09:00:00-07:00"}
    exercise = Command("exercise_rofr", Actor(Party.COMPANY), {"notice": notice})
    d = ROFR.decide(sold.state, sold.data, exercise, now + timedelta(days=1), terms)
    assert d.state == "closing"
    [void] = [a for a in d.data["timeline"]["acts"] if a.get("void")]
    assert void["command"] == "report_third_party_sale" and void["void"]["clause"] == "FMP §6(i)"
    # The stored row's pending timer (unknown to the replay by name) is cancelled all the same.
    assert "sale_window_end" in d.cancel_timers
    # Its timer message, recorded as an act at its due time, still fires in its place.
    fired = ROFR.decide(
        row["state"], row["data"],
        TimerFired("sale_window_end", datetime.fromisoformat(row["timers"]["sale_window_end"])),
        LATER, terms,
    )  # fmt: skip
    assert fired.state == "rofr_reattached"
    assert fired.data["timeline"]["acts"][0]["timer"] == "sale_window_end"
