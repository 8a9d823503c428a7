"""Commands over HTTP: applied with their deadline, refused naming the clause, sent twice once.

FMP §6(d)(iii): a Disposition Notice delivered in person on 2026-03-02 opens the Company's
30-day election window, which ends 2026-04-01 23:59 PDT. A refused or malformed command answers
with a problem document and changes nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_api_support import PROBLEM, Api, api_client, command, disposition_notice

from workflows.kit.payload import SCHEMA_RULE


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def _started(api: Api) -> tuple[str, str, dict[str, Any]]:
    company = await api.register()
    notice = disposition_notice()
    r = await api.send(company, notice)
    assert r.status_code == 200, r.text
    return company, notice["workflow_id"], r.json()


async def test_a_disposition_notice_opens_the_election_window_with_its_deadline(api: Api) -> None:
    company, workflow_id, applied = await _started(api)
    assert (applied["status"], applied["state"], applied["version"]) == (
        "applied",
        "election_window",
        1,
    )
    assert [e["type"] for e in applied["events"]][:2] == [
        "transfer_notice_received",
        "election_window_opened",
    ]

    r = await api.workflow(company, workflow_id)
    assert r.status_code == 200
    workflow = r.json()
    assert (workflow["state"], workflow["version"], workflow["terms_id"]) == (
        "election_window",
        1,
        "fmp-1998-nso",
    )
    [deadline] = workflow["deadlines"]
    assert deadline["name"] == "election_deadline"
    assert deadline["party"] == "company"
    assert deadline["clause"] == "FMP §6(d)(iii)"
    assert deadline["due_at"] == "2026-04-02T06:59:59.999999Z"  # 2026-04-01 23:59 PDT
    assert "Disposition Notice received 2026-03-02 + 30 days" in deadline["derivation"]
    assert "2026-04-01 23:59 PDT" in deadline["derivation"]
    [step] = workflow["history"]
    assert (step["seq"], step["state_from"], step["state_to"]) == (1, None, "election_window")
    assert step["message"]["command"] == "deliver_disposition_notice"
    assert step["prev_hash"] != step["hash"]


async def test_a_command_the_rules_refuse_is_409_naming_the_clause_and_changes_nothing(
    api: Api,
) -> None:
    company, workflow_id, _ = await _started(api)
    before = (await api.workflow(company, workflow_id)).json()

    # FMP §6(d)(iii): the election is the Company's (or its assignee's), never the owner's.
    exercise = command(
        workflow_id,
        "exercise_rofr",
        "owner",
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )
    r = await api.send(company, exercise)

    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    problem = r.json()
    assert problem["title"] == "Command refused"
    assert problem["rule"].startswith("FMP §6(d)(iii)")
    assert "owner may not exercise" in problem["reason"]
    assert problem["code"] == "not_authorised"
    assert problem["rule"] in problem["detail"]
    assert problem["outcome"]["version"] == 1
    after = (await api.workflow(company, workflow_id)).json()
    assert after == before


async def test_a_command_in_the_wrong_state_is_409_with_the_clause(api: Api) -> None:
    company, workflow_id, _ = await _started(api)
    # FMP §6(d)(v): the owner chooses between a sale and the Company only after an exercise.
    choose = command(
        workflow_id,
        "choose_sale_alternative",
        "owner",
        alternative="third_party_sale",
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )
    r = await api.send(company, choose)
    assert r.status_code == 409
    assert (r.json()["rule"], r.json()["code"]) == ("FMP §6(d)(v)", "wrong_state")
    assert (await api.workflow(company, workflow_id)).json()["version"] == 1


async def test_a_command_that_breaks_the_message_schema_is_422_naming_the_field(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice()
    notice["actor"] = {"party": "shareholder"}
    del notice["workflow_type"]

    r = await api.send(company, notice)

    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    fields = {e["field"] for e in r.json()["errors"]}
    assert fields == {"actor.party", "workflow_type"}
    assert "actor.party" in r.json()["detail"]
    assert (await api.workflow(company, notice["workflow_id"])).status_code == 404


async def test_a_body_that_is_not_a_command_object_is_422(api: Api) -> None:
    company = await api.register()
    r = await api.client.post(
        f"/api/v1/companies/{company}/commands",
        content=b"[1, 2]",
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM


async def test_a_payload_field_in_error_is_422_naming_the_field(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice(shares="a thousand")

    r = await api.send(company, notice)

    assert r.status_code == 422
    problem = r.json()
    assert "payload.shares" in problem["reason"]
    assert problem["rule"] == SCHEMA_RULE  # the command's model, not a clause of the terms
    assert problem["code"] == "invalid_payload"
    assert (await api.workflow(company, notice["workflow_id"])).status_code == 404


async def test_the_same_message_id_sent_twice_has_one_effect(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice()

    first = await api.send(company, notice)
    again = await api.send(company, notice)

    assert first.status_code == again.status_code == 200
    assert first.json()["status"] == "applied"
    assert again.json()["status"] == "duplicate"
    assert (again.json()["state"], again.json()["version"]) == ("election_window", 1)
    workflow = (await api.workflow(company, notice["workflow_id"])).json()
    assert workflow["version"] == 1
    assert len(workflow["history"]) == 1
    assert len(workflow["deadlines"]) == 1
    listed = (await api.client.get(f"/api/v1/companies/{company}/deadlines")).json()
    assert len(listed["deadlines"]) == 1


async def test_a_refused_command_sent_again_gets_the_same_refusal(api: Api) -> None:
    company, workflow_id, _ = await _started(api)
    exercise = command(
        workflow_id,
        "exercise_rofr",
        "owner",
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )
    first = await api.send(company, exercise)
    again = await api.send(company, exercise)

    assert first.status_code == again.status_code == 409
    assert again.json()["rule"] == first.json()["rule"]
    assert again.json()["reason"] == first.json()["reason"]
    assert again.json()["outcome"]["status"] == "duplicate"
    assert (await api.workflow(company, workflow_id)).json()["version"] == 1


async def test_a_body_naming_another_company_than_the_path_is_422(api: Api) -> None:
    company = await api.register()
    notice = {**disposition_notice(), "company_id": "someone-else"}
    r = await api.send(company, notice)
    assert r.status_code == 422
    assert r.json()["title"] == "Company mismatch"


async def test_a_nul_anywhere_in_a_command_is_422_naming_the_field(api: Api) -> None:
    company = await api.register()
    for where, notice in (
        ("message_id", {**disposition_notice(), "message_id": "n\x00"}),
        ("transferee.name", disposition_notice(transferee={"name": "Bob\x00"})),
    ):
        r = await api.send(company, notice)
        assert r.status_code == 422, r.text
        assert where in r.json()["detail"] and "U+0000" in r.json()["detail"], r.text
        assert (await api.workflow(company, notice["workflow_id"])).status_code == 404
