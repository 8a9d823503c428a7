"""Grants and terminations over HTTP: a grant is a command like any other (history, events,
its expiry a deadline with its derivation); what needs facts the engine does not load yet is
refused naming them, and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from test_api_support import NOW, Api, api_client


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


def _command(kind: str, name: str, party: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "message_id": f"{name}-{uuid.uuid4()}",
        "workflow_id": str(uuid.uuid4()),
        "workflow_type": kind,
        "command": name,
        "actor": {"party": party, "reference": "BR-2026-01"},
        "payload": payload,
    }


FMP_GRANT = {
    "optionee": "alice",
    "plan": "fmp-1998",
    "shares": 1000,
    "exercise_price": "1.50",
    "grant_date": "2026-01-15",
    "expiration_date": "2036-01-15",
    "installments": [{"on": "2027-01-15", "shares": 1000}],
}


async def test_an_fmp_grant_is_recorded_with_its_expiry_deadline(api: Api) -> None:
    company = await api.register("fmp-1998-nso")
    grant = _command("grant", "grant_option", "board", FMP_GRANT)
    r = await api.send(company, grant)
    assert r.status_code == 200, r.text
    assert r.json()["state"] == "outstanding"
    assert [e["type"] for e in r.json()["events"]] == ["option_granted", "deadline_set"]
    workflow = (await api.workflow(company, grant["workflow_id"])).json()
    [deadline] = workflow["deadlines"]
    assert (deadline["name"], deadline["party"]) == ("option_expiry", "owner")
    assert deadline["due_at"] == "2036-01-16T07:59:59.999999Z"  # 2036-01-15 23:59 PST
    assert deadline["derivation"] == (
        "FMP §2 (the Option Expiration Date set in the Certificate): Option Expiration Date "
        "2036-01-15 → 2036-01-15 23:59 PST"
    )
    [step] = workflow["history"]
    assert step["message"]["command"] == "grant_option"


async def test_a_grant_payload_with_an_unknown_field_is_422(api: Api) -> None:
    company = await api.register("fmp-1998-nso")
    r = await api.send(company, _command("grant", "grant_option", "board", {**FMP_GRANT, "qty": 1}))
    assert r.status_code == 422, r.text
    assert "payload.qty" in r.text


async def test_what_needs_register_facts_is_refused_naming_them(api: Api) -> None:
    company = await api.register("raydream-1992-iso")
    grant = _command("grant", "grant_option", "board", {
        "optionee": "carol", "plan": "raydream-1992", "shares": 4800, "exercise_price": "0.20",
        "grant_date": "2026-01-01", "initial_vesting_date": "2026-01-31",
    })  # fmt: skip
    r = await api.send(company, grant)
    assert r.status_code == 409, r.text
    assert "RD Plan ¶6(A)" in r.text and "fair market value" in r.text
    assert (await api.workflow(company, grant["workflow_id"])).status_code == 404
    end = _command("termination", "terminate_service", "company", {
        "grant": "g-1", "reason": "without_cause", "terminated_on": "2026-03-01",
    })  # fmt: skip
    r = await api.send(company, end)
    assert r.status_code == 409, r.text
    assert "grant register" in r.text


async def test_an_rd_grant_over_http_reads_the_valuation_and_plan_registers(api: Api) -> None:
    company = await api.register("raydream-1992-iso")
    base = f"/api/v1/companies/{company}"
    fmv = {"price_per_share": "0.20", "method": "board_good_faith", "resolution": "BR-1993-02"}
    r = await api.client.put(f"{base}/valuations/1993-02-15", json=fmv)
    assert r.status_code == 200 and r.json()["created"] is True, r.text
    again = await api.client.put(f"{base}/valuations/1993-02-15", json=fmv)
    assert again.status_code == 200 and again.json()["created"] is False
    other = await api.client.put(f"{base}/valuations/1993-02-15", json={**fmv, "resolution": "X"})
    assert other.status_code == 409 and "BR-1993-02" in other.text
    bad = await api.client.put(f"{base}/valuations/1993-03-01", json={**fmv, "method": "guess"})
    assert bad.status_code == 422
    plan = {"board_adopted_on": "1992-03-19", "shareholders_approved_on": "1995-10-05"}
    assert (await api.client.put(f"{base}/plans/rd-1992", json=plan)).status_code == 200
    clerk = await api.key(company, parties=["company"], scopes=["command", "read"])
    r = await api.as_key(clerk, "PUT", f"{base}/valuations/1994-01-01", json=fmv)
    assert r.status_code == 403, r.text  # the Board determines FMV
    assert [v["effective_on"] for v in (await api.client.get(f"{base}/valuations")).json()] == [
        "1993-02-15"
    ]

    await api.runtime.clock.set(datetime(1996, 3, 1, 17, tzinfo=UTC))  # type: ignore[attr-defined]
    grant = _command("grant", "grant_option", "board", {
        "optionee": "carol", "plan": "rd-1992", "shares": 4800, "exercise_price": "0.20",
        "grant_date": "1996-02-29", "initial_vesting_date": "1996-04-30",
    })  # fmt: skip
    r = await api.send(company, grant)
    await api.runtime.clock.set(NOW)  # type: ignore[attr-defined]
    assert r.status_code == 200, r.text
    [granted] = [e for e in r.json()["events"] if e["type"] == "option_granted"]
    assert granted["payload"]["fmv"]["resolution"] == "BR-1993-02"


async def test_a_command_caused_by_another_workflow_is_refused_over_http(api: Api) -> None:
    company = await api.register("raydream-1992-iso")
    body = _command("grant", "record_grant_termination", "board", {
        "terminated_on": "1997-01-01", "reason": "without_cause", "forfeited": 1, "retained": 0,
    })  # fmt: skip
    cause = {"workflow_id": str(uuid.uuid4()), "workflow_type": "termination",
             "message_id": "m-1", "kind": "command"}  # fmt: skip
    r = await api.send(company, {**body, "actor": {"party": "system"}, "caused_by": cause})
    assert r.status_code == 422 and "caused_by" in r.text, r.text
    r = await api.send(company, {**body, "actor": {"party": "system"}})
    assert r.status_code == 422 and "system party" in r.text, r.text
