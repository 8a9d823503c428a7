"""The simulated clock and the terms catalog over HTTP.

Demo and test mode walk a 30-day window in one request (POST /api/v1/clock/advance); a real clock
is never moved. A company registers with a terms id the catalog knows, or is told which it knows.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from test_api_support import NOW, PROBLEM, Api, api_client, disposition_notice


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def test_advancing_the_simulated_clock_moves_the_time_every_service_reads(api: Api) -> None:
    r = await api.client.post("/api/v1/clock/advance", json={"days": 31, "hours": 2})

    assert r.status_code == 200, r.text
    assert datetime.fromisoformat(r.json()["now"]) == NOW + timedelta(days=31, hours=2)
    assert await api.runtime.clock.now() == NOW + timedelta(days=31, hours=2)
    read = (await api.client.get("/api/v1/clock")).json()
    assert (datetime.fromisoformat(read["now"]), read["simulated"]) == (
        NOW + timedelta(days=31, hours=2),
        True,
    )
    health = (await api.client.get("/api/v1/health")).json()
    assert datetime.fromisoformat(health["now"]) == NOW + timedelta(days=31, hours=2)


async def test_a_command_after_the_clock_is_advanced_is_applied_at_the_new_time(api: Api) -> None:
    company = await api.register()
    await api.client.post("/api/v1/clock/advance", json={"days": 3})
    notice = disposition_notice("2026-03-22T10:00:00-07:00")  # after NOW, before NOW + 3 days
    r = await api.send(company, notice)
    assert r.status_code == 200, r.text
    [step] = (await api.workflow(company, notice["workflow_id"])).json()["history"]
    assert datetime.fromisoformat(step["applied_at"]) == NOW + timedelta(days=3)


async def test_the_clock_never_goes_back_and_a_misspelt_field_moves_nothing(api: Api) -> None:
    for body in ({"days": -1}, {"day": 31}):
        r = await api.client.post("/api/v1/clock/advance", json=body)
        assert r.status_code == 422, body
        assert r.headers["content-type"] == PROBLEM
    assert await api.runtime.clock.now() == NOW


async def test_a_real_clock_cannot_be_advanced(database_url: str) -> None:
    async with api_client(database_url, simulated=False) as api:
        # With the system clock the route does not exist at all.
        r = await api.client.post("/api/v1/clock/advance", json={"days": 1})
        assert r.status_code == 404
        assert r.headers["content-type"] == PROBLEM
        assert (
            "/api/v1/clock/advance" not in (await api.client.get("/openapi.json")).json()["paths"]
        )
        assert (await api.client.get("/api/v1/clock")).json()["simulated"] is False


async def test_an_unknown_terms_id_is_422_listing_the_known_ones(api: Api) -> None:
    r = await api.client.put("/api/v1/companies/acme-x", json={"terms_id": "fmp-1999-nso"})

    assert r.status_code == 422
    assert r.headers["content-type"] == PROBLEM
    known = r.json()["known_terms"]
    assert {"fmp-1998-nso", "raydream-1992-iso", "raydream-1992-nso"} <= set(known)
    assert all(terms_id in r.json()["detail"] for terms_id in known)
    assert "fmp-1999-nso" in r.json()["detail"]


async def test_a_command_naming_unknown_terms_is_422_and_starts_nothing(api: Api) -> None:
    company = await api.register()
    notice = {**disposition_notice(), "terms": "fmp-1999-nso"}
    r = await api.send(company, notice)
    assert r.status_code == 422
    assert r.json()["code"] == "unknown_terms"
    assert "fmp-1998-nso" in r.json()["reason"]
    assert (await api.workflow(company, notice["workflow_id"])).status_code == 404


async def test_a_company_id_no_command_could_carry_is_refused(api: Api) -> None:
    r = await api.client.put("/api/v1/companies/acme inc", json={"terms_id": "fmp-1998-nso"})
    assert r.status_code == 422


async def test_the_terms_catalog_lists_and_shows_the_presets(api: Api) -> None:
    ids = (await api.client.get("/api/v1/terms")).json()
    assert "raydream-1992-iso" in ids
    shown = await api.client.get("/api/v1/terms/fmp-1998-nso")
    assert shown.status_code == 200
    assert shown.json()["id"] == "fmp-1998-nso"
    assert (await api.client.get("/api/v1/terms/nope")).status_code == 404
