"""Reading over HTTP: one company never sees another's workflows or deadlines, and the pending
deadlines list pages by keyset through every row exactly once, in due order."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_api_support import PROBLEM, Api, api_client, command, disposition_notice


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def _deadlines(api: Api, company: str, **params: Any) -> dict[str, Any]:
    r = await api.client.get(f"/api/v1/companies/{company}/deadlines", params=params)
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_a_company_never_sees_another_companys_workflow_or_deadlines(api: Api) -> None:
    a, b = await api.register(), await api.register()
    notice = disposition_notice()
    assert (await api.send(a, notice)).status_code == 200
    workflow_id = notice["workflow_id"]

    r = await api.workflow(b, workflow_id)
    assert r.status_code == 404
    assert r.headers["content-type"] == PROBLEM
    assert (await _deadlines(api, b))["deadlines"] == []
    assert (await api.client.get(f"/api/v1/companies/{b}/workflows")).json() == []
    assert [d["workflow_id"] for d in (await _deadlines(api, a))["deadlines"]] == [workflow_id]

    # B's command on A's workflow: not found, and A's workflow is untouched.
    waive = command(
        workflow_id,
        "waive_rofr",
        "company",
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )
    r = await api.send(b, waive)
    assert r.status_code == 404
    assert (r.json()["outcome"]["state"], r.json()["outcome"]["version"]) == (None, 0)
    assert "election_window" not in r.text  # nothing of A's workflow is revealed
    workflow = (await api.workflow(a, workflow_id)).json()
    assert (workflow["state"], workflow["version"]) == ("election_window", 1)


async def test_the_deadlines_list_pages_through_every_row_once_in_due_order(api: Api) -> None:
    company = await api.register()
    # Notices on five days, two on the same day: their deadlines tie on the due time.
    days = ["2026-03-06", "2026-03-02", "2026-03-04", "2026-03-02", "2026-03-05", "2026-03-03"]
    expected = set()
    for day in days:
        notice = disposition_notice(f"{day}T10:00:00-08:00")
        assert (await api.send(company, notice)).status_code == 200
        expected.add(notice["workflow_id"])

    seen: list[dict[str, Any]] = []
    page = await _deadlines(api, company, limit=4)
    pages = 1
    while True:
        seen.extend(page["deadlines"])
        if page["next"] is None:
            break
        assert set(page["next"]) >= {"after_due", "after_id", "href"}
        keyset = {k: page["next"][k] for k in ("after_due", "after_id")}
        page = await _deadlines(api, company, limit=4, **keyset)
        pages += 1

    assert pages == 2
    assert [d["timer_id"] for d in seen] == list(dict.fromkeys(d["timer_id"] for d in seen))
    assert {d["workflow_id"] for d in seen} == expected
    assert len(seen) == len(days)
    dues = [d["due_at"] for d in seen]
    assert dues == sorted(dues)
    assert dues[0] == dues[1] == "2026-04-02T06:59:59.999999Z"  # 2026-04-01 23:59 PDT, twice
    assert all(d["party"] == "company" and d["clause"] == "FMP §6(d)(iii)" for d in seen)


async def test_the_next_link_of_a_page_leads_to_the_following_page(api: Api) -> None:
    company = await api.register()
    for day in ["2026-03-02", "2026-03-03", "2026-03-04"]:
        assert (await api.send(company, disposition_notice(f"{day}T10:00:00-08:00"))).is_success

    first = await _deadlines(api, company, limit=2, party="company")
    r = await api.client.get(first["next"]["href"])
    assert r.status_code == 200
    second = r.json()
    assert [d["due_at"] for d in second["deadlines"]] == ["2026-04-04T06:59:59.999999Z"]
    assert second["next"] is None
    assert (await _deadlines(api, company, party="owner"))["deadlines"] == []


async def test_half_a_keyset_is_refused_rather_than_restarting_at_the_first_page(
    api: Api,
) -> None:
    company = await api.register()
    r = await api.client.get(
        f"/api/v1/companies/{company}/deadlines", params={"after_due": "2026-04-02T00:00:00Z"}
    )
    assert r.status_code == 422
    assert "after_id" in r.json()["detail"]


async def test_the_workflows_list_shows_only_the_companys_own(api: Api) -> None:
    a, b = await api.register(), await api.register()
    mine = disposition_notice()
    assert (await api.send(a, mine)).is_success
    assert (await api.send(b, disposition_notice())).is_success

    listed = (await api.client.get(f"/api/v1/companies/{a}/workflows")).json()
    assert [w["workflow_id"] for w in listed] == [mine["workflow_id"]]
    assert listed[0]["state"] == "election_window"


async def test_an_unknown_or_nul_query_parameter_is_422_naming_it(api: Api) -> None:
    """A fuzzer found a NUL in `workflow_type` answered 500; a misspelt parameter was ignored."""
    company = await api.register()
    base = f"/api/v1/companies/{company}"
    r = await api.client.get(f"{base}/workflows", params={"workflow_type": "rofr\x00"})
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "query.workflow_type"
    r = await api.client.get(f"{base}/deadlines", params={"partie": "owner"})
    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    assert "partie" in r.json()["detail"] and "party" in r.json()["detail"]
    r = await api.client.put(base, json={"terms_id": "raydream-1992-iso"}, params={"forse": 1})
    assert r.status_code == 422
    terms = "SELECT terms_id FROM companies WHERE company_id = $1"
    assert await api.runtime.pool.fetchval(terms, company) == "fmp-1998-nso"
