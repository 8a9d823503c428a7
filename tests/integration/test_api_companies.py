"""A typo is never answered with an empty success: a company that does not exist is a 404 that
says how to register it, a misspelt party a 422 listing the parties, and a command for a company
that does not exist is refused without leaving any trace of that company behind."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest
from test_api_support import FMP, PROBLEM, Api, api_client, disposition_notice


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


def _nowhere() -> str:
    return f"nosuchco-{uuid.uuid4().hex[:8]}"


@pytest.mark.parametrize("read", ["workflows", "deadlines"])
async def test_reading_a_company_that_does_not_exist_is_404_saying_how_to_register_it(
    api: Api, read: str
) -> None:
    company = _nowhere()
    r = await api.client.get(f"/api/v1/companies/{company}/{read}")
    assert r.status_code == 404, r.text
    assert r.headers["content-type"] == PROBLEM
    assert company in r.json()["detail"]
    assert f"PUT /api/v1/companies/{company}" in r.json()["detail"]


async def test_a_registered_company_with_nothing_yet_reads_empty(api: Api) -> None:
    company = await api.register()
    assert (await api.client.get(f"/api/v1/companies/{company}/workflows")).json() == []
    r = await api.client.get(f"/api/v1/companies/{company}/deadlines")
    assert (r.status_code, r.json()["deadlines"]) == (200, [])


async def test_a_misspelt_party_is_422_listing_the_parties(api: Api) -> None:
    company = await api.register()
    r = await api.client.get(f"/api/v1/companies/{company}/deadlines", params={"party": "ownr"})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert "party" in detail
    for party in ("owner", "company", "assignee", "board", "escrow_agent", "transferee"):
        assert f"'{party}'" in detail
    r = await api.client.get(f"/api/v1/companies/{company}/deadlines", params={"party": "owner"})
    assert r.status_code == 200, r.text


async def _all_companies(api: Api) -> list[dict[str, Any]]:
    companies, href = [], "/api/v1/companies?limit=50"
    while href:
        page = (await api.client.get(href)).json()
        companies.extend(page["companies"])
        href = page["next"]["href"] if page["next"] else ""
    return companies


async def test_companies_are_listed_and_each_can_be_read(api: Api) -> None:
    a, b = await api.register(), await api.register("raydream-1992-iso")
    listed = {c["company_id"]: c["terms_id"] for c in await _all_companies(api)}
    assert (listed[a], listed[b]) == (FMP, "raydream-1992-iso")
    assert list(listed) == sorted(listed), "paged by id, each company once"

    r = await api.client.get(f"/api/v1/companies/{b}")
    assert r.status_code == 200, r.text
    assert (r.json()["company_id"], r.json()["terms_id"], r.json()["registered"]) == (
        b, "raydream-1992-iso", True,
    )  # fmt: skip
    company = _nowhere()
    r = await api.client.get(f"/api/v1/companies/{company}")
    assert r.status_code == 404 and company in r.json()["detail"]


async def _traces(pool: asyncpg.Pool, company: str) -> dict[str, int]:
    counts = {}
    for table in ("inbox", "outbox", "history", "workflows", "companies"):
        counts[table] = await pool.fetchval(
            f"SELECT count(*) FROM {table} WHERE company_id = $1", company
        )
    return counts


async def test_a_command_for_a_company_that_does_not_exist_is_404_and_leaves_no_trace(
    api: Api,
) -> None:
    company = _nowhere()
    notice = disposition_notice()
    for _ in range(2):  # sent again: the same answer, still nothing kept
        r = await api.send(company, notice)
        assert r.status_code == 404, r.text
        assert r.json()["code"] == "unregistered_company"
        assert f"no company {company}" in r.json()["detail"]
        assert "register" in r.json()["detail"]
    assert await _traces(api.runtime.pool, company) == dict.fromkeys(
        ("inbox", "outbox", "history", "workflows", "companies"), 0
    )
    assert (await api.client.get(f"/api/v1/companies/{company}")).status_code == 404


async def test_an_unknown_terms_id_is_named_once(api: Api) -> None:
    company = await api.register()  # an unregistered company is not found before its terms
    notice = {**disposition_notice(), "terms": "fmp-1999-nso"}
    r = await api.send(company, notice)
    assert r.status_code == 422, r.text
    reason = r.json()["reason"]
    assert reason.startswith("unknown terms 'fmp-1999-nso'; known terms: fmp-1998-nso, "), reason
    assert reason.count("unknown terms") == 1
