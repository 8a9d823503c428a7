"""The chart of every kind, served as Mermaid text; for one workflow, its current state marked."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from test_api_support import Api, api_client, disposition_notice

from workflows import registry


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


async def test_every_kind_serves_its_chart_as_mermaid(api: Api) -> None:
    for workflow_type in registry.KINDS:
        r = await api.client.get(f"/api/v1/workflow-types/{workflow_type}/diagram")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/plain")
        assert r.text.startswith("stateDiagram-v2")
        assert ":::active" not in r.text
    rofr = (await api.client.get("/api/v1/workflow-types/rofr/diagram")).text
    assert "election_window --> owner_sale_window : Election expired" in rofr
    missing = await api.client.get("/api/v1/workflow-types/repurchase/diagram")
    detail = missing.json()["detail"]
    assert missing.status_code == 404 and "known: " in detail and "rofr" in detail


async def test_a_workflows_diagram_marks_its_current_state(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice()
    assert (await api.send(company, notice)).status_code == 200
    path = f"/api/v1/companies/{company}/workflows/{notice['workflow_id']}/diagram"
    r = await api.client.get(path)
    assert r.status_code == 200
    assert r.text.rstrip().endswith("election_window:::active")
    other = await api.client.get(
        f"/api/v1/companies/other-co/workflows/{notice['workflow_id']}/diagram"
    )
    assert other.status_code == 404


async def test_a_workflows_diagram_needs_the_read_scope_in_its_company(api: Api) -> None:
    company = await api.register()
    notice = disposition_notice()
    assert (await api.send(company, notice)).status_code == 200
    path = f"/api/v1/companies/{company}/workflows/{notice['workflow_id']}/diagram"
    reader = await api.key(company, ["owner"], ["read"])
    commander = await api.key(company, ["owner"], ["command"])
    other = await api.key(await api.register(), ["owner"], ["read"])
    assert (await api.as_key(reader, "GET", path)).status_code == 200
    assert (await api.as_key(commander, "GET", path)).status_code == 403
    assert (await api.as_key(other, "GET", path)).status_code == 404
    assert (await api.as_key(None, "GET", path)).status_code == 401
    chart = "/api/v1/workflow-types/rofr/diagram"
    assert (await api.as_key(None, "GET", chart)).status_code == 401
    assert (await api.as_key(commander, "GET", chart)).status_code == 200
