"""Clean bytes at the HTTP edge: what PostgreSQL cannot store, an over-long body, a clock moved
past the calendar — each a 4xx naming the field, never a 500, and nothing written.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from test_api_support import NOW, PROBLEM, Api, api_client, disposition_notice

from services.api.clock import MAX_ADVANCE


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


def _fields(r: Any) -> list[str]:
    assert r.headers["content-type"] == PROBLEM, r.text
    return [e["field"] for e in r.json()["errors"]]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"message_id": "m\x00-1"}, "message_id", "NUL characters are not allowed"),
        ({"message_id": "acme\x1fx"}, "message_id", "U+001F at index 4 is not"),
        ({"workflow_type": "rofr\x00"}, "workflow_type", "NUL"),
        ({"actor": {"party": "owner", "name": "Alice\x00"}}, "actor.name", "NUL"),
        ({"actor": {"party": "owner", "name": "Alice\ud800"}}, "actor.name", "unicode"),
        ({"payload": {"holder": "a\x00b"}}, "payload.holder", "NUL"),
        ({"payload": {"transferee": {"name": ["x", "\x00"]}}}, "payload.transferee.name.1", "NUL"),
        ({"payload": {"k\x00": 1}}, "payload.k\x00", "NUL"),
        ({"payload": {"holder": "\udc00"}}, "payload", "holder: contains a lone surrogate"),
    ],
)
async def test_text_postgresql_cannot_store_is_a_422_naming_the_field(
    api: Api, change: dict[str, Any], field: str, words: str
) -> None:
    company = await api.register()
    body = {**disposition_notice(), **change}
    # As JSON escapes (a lone surrogate is not UTF-8), the way a client library would send it.
    r = await api.client.post(
        f"/api/v1/companies/{company}/commands",
        content=json.dumps(body),
        headers={"content-type": "application/json"},
    )
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert words in r.json()["detail"]
    listed = await api.client.get(f"/api/v1/companies/{company}/workflows")
    assert listed.json() == []


async def test_a_nul_in_a_query_parameter_is_a_422_not_a_500(api: Api) -> None:
    company = await api.register()
    r = await api.client.get(
        f"/api/v1/companies/{company}/workflows", params={"workflow_type": "rofr\x00"}
    )
    assert r.status_code == 422 and _fields(r) == ["query.workflow_type"]
    r = await api.client.get(f"/api/v1/companies/{company}/deadlines", params={"party": "\x00"})
    assert r.status_code == 422 and _fields(r) == ["query.party"]
    r = await api.client.put(
        f"/api/v1/companies/{company}", json={"terms_id": "fmp-1998-nso", "name": "A\x00"}
    )
    assert r.status_code == 422 and _fields(r) == ["body.name"]


async def test_an_over_long_body_is_refused_before_it_is_parsed(api: Api) -> None:
    company = await api.register()
    limit = api.runtime.settings.max_message_bytes
    body = disposition_notice(compliance_proof="x" * limit)
    r = await api.send(company, body)
    assert r.status_code == 413 and r.headers["content-type"] == PROBLEM
    assert str(limit) in r.json()["detail"]

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"message_id": "'
        for _ in range(limit // 1024 + 1):
            yield b"x" * 1024

    r = await api.client.post(f"/api/v1/companies/{company}/commands", content=chunks())
    assert r.status_code == 413
    assert (await api.client.get(f"/api/v1/companies/{company}/workflows")).json() == []


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"minutes": 2009055957343690240}, "body.minutes", f"{MAX_ADVANCE.days * 1440}"),
        ({"days": 36526}, "body.days", "36525"),
        ({"days": 36525, "minutes": 1}, "body", "100 years"),
        ({"minutes": False}, "body.minutes", "integer"),
        ({"days": "5"}, "body.days", "integer"),
        ({"hours": 1.5}, "body.hours", "integer"),
    ],
)
async def test_advancing_the_clock_takes_bounded_strict_integers(
    api: Api, body: dict[str, Any], field: str, words: str
) -> None:
    r = await api.client.post("/api/v1/clock/advance", json=body)
    assert r.status_code == 422, r.text
    assert field in _fields(r)
    assert words in r.json()["detail"]
    assert await api.runtime.clock.now() == NOW


async def test_the_clock_advances_by_the_most_it_may(api: Api) -> None:
    r = await api.client.post("/api/v1/clock/advance", json={"days": MAX_ADVANCE.days})
    assert r.status_code == 200, r.text
    assert await api.runtime.clock.now() == NOW + MAX_ADVANCE


async def test_readiness_says_what_is_not_connected(database_url: str) -> None:
    async with api_client(database_url) as api:
        r = await api.client.get("/api/v1/ready")
        assert r.status_code == 200, r.text
        assert r.json()["connections"] == {"postgresql": True}
        await api.runtime.pool.close()  # the database is gone
        for path in ("/api/v1/ready", "/api/v1/health"):
            r = await api.client.get(path)
            assert r.status_code == 503 and r.headers["content-type"] == PROBLEM
            assert r.json()["connections"] == {"postgresql": False}
            assert "not connected to postgresql" in r.json()["detail"]
