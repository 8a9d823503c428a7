"""Only the right caller: every request but health and the API documents needs an API key, a
key sees only the companies it holds a grant in, and acts only with its scopes and parties.

Before API keys, anyone could read any company's workflows by naming it, start workflows as
any party, change a company's terms and advance the simulated clock.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute, Route
from test_api_support import PROBLEM, Api, api_client, command, disposition_notice

from services.api.app import create_app

OPEN = {"/api/v1/health", "/api/v1/ready", "/openapi.json", "/docs", "/asyncapi.json"}


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def _started(api: Api) -> tuple[str, str]:
    company = await api.register()
    notice = disposition_notice()
    assert (await api.send(company, notice)).status_code == 200
    return company, notice["workflow_id"]


def _every_route(routes: Sequence[BaseRoute]) -> Iterator[BaseRoute]:
    """The app's routes, those of the routers it includes among them (FastAPI keeps an included
    router as one entry that holds its routes)."""
    for route in routes:
        included = getattr(route, "original_router", None)
        yield from _every_route(included.routes) if included is not None else [route]


def _concrete(path: str) -> str:
    """A path with every parameter filled with a valid value."""
    return (
        path.replace("{company_id}", "acme")
        .replace("{workflow_id}", str(uuid.uuid4()))
        .replace("{terms_id}", "fmp-1998-nso")
    )


async def test_without_a_key_only_health_and_the_api_documents_answer(api: Api) -> None:
    app = create_app(api.runtime, asyncapi={"asyncapi": "3.0.0"})
    transport = httpx.ASGITransport(app=app)
    answered: set[str] = set()
    async with httpx.AsyncClient(transport=transport, base_url="http://equityflow") as anonymous:
        for route in _every_route(app.routes):
            assert isinstance(route, Route)
            for method in sorted(route.methods or ()):
                if method == "HEAD":
                    continue
                r = await anonymous.request(method, _concrete(route.path), json={})
                if r.status_code == 401:
                    assert r.headers["www-authenticate"].startswith("Bearer")
                    assert r.headers["content-type"] == PROBLEM
                    assert isinstance(route, APIRoute), route.path
                else:
                    assert r.status_code == 200, (method, route.path, r.text)
                    answered.add(route.path)
    assert answered == OPEN


async def test_a_missing_malformed_unknown_wrong_or_revoked_key_is_401(api: Api) -> None:
    company, workflow_id = await _started(api)
    path = f"/api/v1/companies/{company}/workflows/{workflow_id}"
    good = await api.key(company, ["owner"], ["read"])
    revoked = await api.key(company, ["owner"], ["read"])
    await api.runtime.pool.execute(
        "UPDATE principals SET revoked_at = now() WHERE principal_id = $1", revoked[:20]
    )
    wrong_secret = good[:21] + ("A" if good[21] != "A" else "B") + good[22:]

    assert (await api.as_key(good, "GET", path)).status_code == 200
    for token in (None, "", "nonsense", wrong_secret, revoked, f"efk_{'0' * 16}_{'x' * 43}"):
        r = await api.as_key(token, "GET", path)
        assert r.status_code == 401, token
        assert r.headers["www-authenticate"].startswith("Bearer")
        assert r.headers["content-type"] == PROBLEM
        assert "election_window" not in r.text
    basic = await api.client.get(path, headers={"Authorization": "Basic YWxhZGRpbjpvcGVu"})
    assert basic.status_code == 401


async def test_a_key_of_one_company_finds_nothing_of_another(api: Api) -> None:
    mine, _ = await _started(api)
    theirs, their_workflow = await _started(api)
    key = await api.key(mine, ["owner", "company"], ["read", "command", "admin"])
    nowhere = f"ghost-{uuid.uuid4().hex[:8]}"

    def requests(company: str) -> list[tuple[str, str, dict[str, Any]]]:
        base = f"/api/v1/companies/{company}"
        waive = command(their_workflow, "waive_rofr", "company", notice={
            "method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"})  # fmt: skip
        return [
            ("GET", f"{base}/workflows", {}),
            ("GET", f"{base}/workflows/{their_workflow}", {}),
            ("GET", f"{base}/deadlines", {}),
            ("GET", f"{base}/audit", {}),
            ("POST", f"{base}/commands", {"json": waive}),
            ("PUT", base, {"json": {"terms_id": "raydream-1992-iso"}}),
        ]

    for (method, path, kwargs), (_, ghost_path, ghost_kwargs) in zip(
        requests(theirs), requests(nowhere), strict=True
    ):
        r = await api.as_key(key, method, path, **kwargs)
        ghost = await api.as_key(key, method, ghost_path, **ghost_kwargs)
        assert r.status_code == ghost.status_code == 404, (method, path, r.text)
        # Worded alike: the answer never tells an existing company from one that is not.
        assert r.json()["title"] == ghost.json()["title"] == "Company not found"
        assert r.json()["detail"].replace(theirs, "X") == ghost.json()["detail"].replace(
            nowhere, "X"
        )
    workflow = (await api.workflow(theirs, their_workflow)).json()
    assert (workflow["state"], workflow["version"]) == ("election_window", 1)
    terms = await api.runtime.pool.fetchval(
        "SELECT terms_id FROM companies WHERE company_id = $1", theirs
    )
    assert terms == "fmp-1998-nso"


async def test_each_route_needs_its_scope(api: Api) -> None:
    company, workflow_id = await _started(api)
    reader = await api.key(company, ["owner"], ["read"])
    commander = await api.key(company, ["owner"], ["command"])
    base = f"/api/v1/companies/{company}"

    r = await api.as_key(reader, "POST", f"{base}/commands", json=disposition_notice())
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert "command scope" in r.json()["detail"]
    for path in (f"{base}/workflows", f"{base}/workflows/{workflow_id}", f"{base}/deadlines"):
        assert (await api.as_key(commander, "GET", path)).status_code == 403, path
        assert (await api.as_key(reader, "GET", path)).status_code == 200, path
    for key in (reader, commander):
        r = await api.as_key(key, "PUT", base, json={"terms_id": "fmp-1998-nso"})
        assert r.status_code == 403
        assert "admin scope" in r.json()["detail"]


async def test_a_command_acts_only_as_a_party_the_key_holds(api: Api) -> None:
    company, workflow_id = await _started(api)
    owner = await api.key(company, ["owner"], ["command", "read"])
    board_and_company = await api.key(company, ["company", "board"], ["command"])
    waive = command(
        workflow_id,
        "waive_rofr",
        "company",
        notice={"method": "personal", "delivered_at": "2026-03-10T10:00:00-07:00"},
    )

    r = await api.as_key(owner, "POST", f"/api/v1/companies/{company}/commands", json=waive)
    assert r.status_code == 403
    assert r.headers["content-type"] == PROBLEM
    assert r.json()["parties"] == ["owner"]
    assert "as: owner; not as company" in r.json()["detail"]
    workflow = (await api.as_key(owner, "GET", f"/api/v1/companies/{company}/workflows/"
                                 f"{workflow_id}")).json()  # fmt: skip
    assert workflow["version"] == 1

    r = await api.as_key(
        board_and_company, "POST", f"/api/v1/companies/{company}/commands", json=waive
    )
    assert r.status_code == 200, r.text
    assert r.json()["state"] != "election_window"


async def test_only_an_operator_registers_a_company_and_gets_its_grant(api: Api) -> None:
    company = await api.register()
    admin = await api.key(company, ["company"], ["admin", "read"])
    new = f"newco-{uuid.uuid4().hex[:8]}"

    # A company admin key cannot register another company: not found, like anything else.
    r = await api.as_key(
        admin, "PUT", f"/api/v1/companies/{new}", json={"terms_id": "fmp-1998-nso"}
    )
    assert r.status_code == 404
    assert (
        await api.runtime.pool.fetchval("SELECT count(*) FROM companies WHERE company_id = $1", new)
        == 0
    )

    # Another operator may not take an id already registered.
    other_operator = await api.key(None, [], ["admin"])
    r = await api.as_key(
        other_operator,
        "PUT",
        f"/api/v1/companies/{company}",
        json={"terms_id": "raydream-1992-iso"},
    )
    assert r.status_code == 409
    assert r.json()["code"] == "company_id_taken"

    r = await api.as_key(
        other_operator, "PUT", f"/api/v1/companies/{new}", json={"terms_id": "fmp-1998-nso"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["created"] is True
    # ...and now holds every scope there: it reads and commands as any party.
    assert (
        await api.as_key(other_operator, "GET", f"/api/v1/companies/{new}/workflows")
    ).json() == []
    # The first operator holds no grant in the new company.
    assert (await api.client.get(f"/api/v1/companies/{new}/workflows")).status_code == 404
    [entry] = (await api.as_key(other_operator, "GET", f"/api/v1/companies/{new}/audit")).json()
    assert (entry["action"], entry["principal_id"]) == ("registered", other_operator[:20])


async def test_changing_terms_with_open_workflows_needs_force_and_is_audited(api: Api) -> None:
    company, _ = await _started(api)
    admin = await api.key(company, [], ["admin", "read"])
    path = f"/api/v1/companies/{company}"
    change = {"terms_id": "raydream-1992-iso", "name": "Acme, Inc."}

    r = await api.as_key(admin, "PUT", path, json=change)
    assert r.status_code == 409
    assert r.headers["content-type"] == PROBLEM
    assert (r.json()["code"], r.json()["open_workflows"]) == ("open_workflows", 1)
    assert "force" in r.json()["detail"]
    terms = "SELECT terms_id FROM companies WHERE company_id = $1"
    assert await api.runtime.pool.fetchval(terms, company) == "fmp-1998-nso"

    r = await api.as_key(admin, "PUT", path, json=change, params={"force": "true"})
    assert r.status_code == 200, r.text
    assert (r.json()["forced"], r.json()["open_workflows"]) == (True, 1)
    assert await api.runtime.pool.fetchval(terms, company) == "raydream-1992-iso"

    entries = (await api.as_key(admin, "GET", f"{path}/audit")).json()
    assert [e["action"] for e in entries] == ["registered", "key_created", "terms_changed"]
    forced = entries[-1]
    assert forced["principal_id"] == admin[:20]
    assert forced["detail"] == {
        "terms_from": "fmp-1998-nso",
        "terms_to": "raydream-1992-iso",
        "name_from": "",
        "name_to": "Acme, Inc.",
        "open_workflows": 1,
        "forced": True,
    }


async def test_a_company_without_open_workflows_changes_terms_without_force(api: Api) -> None:
    company = await api.register()
    r = await api.client.put(f"/api/v1/companies/{company}", json={"terms_id": "raydream-1992-nso"})
    assert r.status_code == 200, r.text
    assert r.json()["forced"] is False
    [_, changed] = (await api.client.get(f"/api/v1/companies/{company}/audit")).json()
    assert changed["detail"]["forced"] is False


async def test_the_audit_trail_of_a_company_cannot_be_rewritten(api: Api) -> None:
    company = await api.register()
    for statement in (
        "UPDATE company_audit SET action = 'nothing' WHERE company_id = $1",
        "DELETE FROM company_audit WHERE company_id = $1",
    ):
        with pytest.raises(Exception, match="append-only"):
            await api.runtime.pool.execute(statement, company)
    with pytest.raises(Exception, match="append-only"):
        await api.runtime.pool.execute("TRUNCATE company_audit CASCADE")
    assert len((await api.client.get(f"/api/v1/companies/{company}/audit")).json()) == 1


async def test_only_an_operator_advances_the_simulated_clock(api: Api) -> None:
    company = await api.register()
    admin = await api.key(company, ["company"], ["read", "command", "admin"])
    before = await api.runtime.clock.now()

    r = await api.as_key(admin, "POST", "/api/v1/clock/advance", json={"days": 1})
    assert r.status_code == 403
    assert "operator" in r.json()["detail"]
    assert (await api.as_key(None, "POST", "/api/v1/clock/advance", json={})).status_code == 401
    assert await api.runtime.clock.now() == before


@pytest.mark.parametrize(
    "body",
    [{"minutes": 2009055957343690240}, {"minutes": False}, {"days": "1"}, {"hours": 1.5}],
)
async def test_a_clock_advance_that_is_not_a_bounded_integer_is_422(
    api: Api, body: dict[str, Any]
) -> None:
    """A fuzzer found a 500 (timedelta overflow) and a 200 for `false`."""
    before = await api.runtime.clock.now()
    r = await api.client.post("/api/v1/clock/advance", json=body)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == PROBLEM
    assert await api.runtime.clock.now() == before


async def test_a_command_of_a_company_the_key_holds_no_grant_in_starts_nothing(api: Api) -> None:
    nowhere = f"ghost-{uuid.uuid4().hex[:8]}"
    notice = {**disposition_notice(), "terms": "fmp-1998-nso"}
    r = await api.send(nowhere, notice)
    assert r.status_code == 404
    assert (
        await api.runtime.pool.fetchval(
            "SELECT count(*) FROM workflows WHERE workflow_id = $1",
            uuid.UUID(notice["workflow_id"]),
        )
        == 0
    )
