"""Issue 14 through the engine and the HTTP API: a timely Exercise Notice entered after a
recorded third-party sale wins; the sale stays on record, void under FMP §6(i), and the
company sees a reconciliation item naming it.

FMP §6(d)(iii)-(iv): notice delivered 2026-03-02, election window to 2026-04-01; the company's
Exercise Notice was delivered 2026-03-30 but is entered only on 2026-04-07, after the owner
reported a sale of all 1,000 shares made on 2026-04-05.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import asyncpg
import pytest
from test_api_support import PT, Api, api_client, command, disposition_notice

from services.store import reconciliation


@pytest.fixture
async def api(database_url: str) -> AsyncIterator[Api]:
    async with api_client(database_url) as a:
        yield a


SALE = {
    "buyer": {"name": "Eve Buyer"},
    "shares": 1000,
    "price_per_share": "2.50",
    "sold_at": "2026-04-05T10:00:00-07:00",
    # FMP §6(d)(iv): the sale states how it meets §6(g) and §6(h)
    "compliance": {
        "securities_act": "exempt",
        "exemption": "Securities Act §4(a)(1)",
        "state_law": "exempt",
        "s_corporation": "not_an_s_corporation",
    },
}


async def _sent(api: Api, company: str, body: dict[str, Any]) -> dict[str, Any]:
    r = await api.send(company, body)
    assert r.status_code == 200, r.text
    result: dict[str, Any] = r.json()
    return result


async def test_a_late_entered_timely_exercise_voids_the_recorded_sale_and_raises_an_item(
    api: Api,
) -> None:
    company = await api.register()
    notice = disposition_notice()
    workflow_id = notice["workflow_id"]
    await _sent(api, company, notice)

    await api.runtime.clock.set(datetime(2026, 4, 6, 9, 0, tzinfo=PT))
    sale = command(workflow_id, "report_third_party_sale", "owner", **SALE)
    sold = await _sent(api, company, sale)
    # The sale is judged on 2026-04-05: the election window had ended, the sale window was open.
    assert sold["state"] == "sold_to_third_party"
    assert (await api.client.get(f"/api/v1/companies/{company}/reconciliation")).json() == {
        "items": []
    }

    await api.runtime.clock.set(datetime(2026, 4, 7, 9, 0, tzinfo=PT))
    exercise = command(
        workflow_id,
        "exercise_rofr",
        "company",
        notice={"method": "personal", "delivered_at": "2026-03-30T09:00:00-07:00"},
    )
    applied = await _sent(api, company, exercise)
    assert applied["state"] == "closing"
    types = [e["type"] for e in applied["events"]]
    assert {"rofr_exercised", "closing_scheduled", "fact_voided", "reconciliation_raised"} <= set(
        types
    )
    assert "transfer_recorded" not in types  # events already emitted are not emitted again

    listed = (await api.client.get(f"/api/v1/companies/{company}/reconciliation")).json()
    voids = [i for i in listed["items"] if i["kind"] == "void"]
    assert len(voids) == 1
    [item] = voids
    assert item["workflow_id"] == workflow_id and item["state"] == "closing"
    assert item["clause"] == "FMP §6(i)"
    assert item["fact"]["command"] == "report_third_party_sale"
    assert item["fact"]["act"] == sale["message_id"]
    assert item["fact"]["effective_at"] == "2026-04-05T10:00:00-07:00"
    assert item["contradicted_by"]["act"] == exercise["message_id"]
    assert item["status"] == "open"

    workflow = (await api.workflow(company, workflow_id)).json()
    assert workflow["state"] == "closing" and workflow["final"] is False
    assert [i["id"] for i in workflow["reconciliation"]] == [i["id"] for i in listed["items"]]
    assert [d["name"] for d in workflow["deadlines"]] == ["closing_deadline"]
    assert workflow["history"][-1]["message"]["command"] == "exercise_rofr"

    # The company marks it reconciled: it leaves the open items; the transfer does not move.
    closing = command(workflow_id, "reconcile_rofr", "company", item=item["id"], note="register")
    closed = await _sent(api, company, closing)
    assert closed["state"] == "closing"
    assert [e["type"] for e in closed["events"]] == ["reconciliation_closed"]
    listed = (await api.client.get(f"/api/v1/companies/{company}/reconciliation")).json()
    assert item["id"] not in [i["id"] for i in listed["items"]]

    # Another company's key sees none of it (the same read grant as every company read).
    other = await api.register()
    token = await api.key(other, parties=["company"], scopes=["read"])
    r = await api.as_key(token, "GET", f"/api/v1/companies/{company}/reconciliation")
    assert r.status_code == 404


async def test_the_reconciliation_list_reads_only_workflows_with_an_open_item(
    pool: asyncpg.Pool,
) -> None:
    """The list's condition is answered from the partial index on open items: with the table's
    other indexes out of the way (in a transaction rolled back) and sequential scans off, the
    planner uses it, so a company's thousands of settled workflows are never read."""
    async with pool.acquire() as c:
        tx = c.transaction()
        await tx.start()
        try:
            others = await c.fetch(
                "SELECT indexname FROM pg_indexes WHERE tablename = 'workflows' "
                "AND indexname NOT IN ('workflows_open_reconciliation', 'workflows_pkey')"
            )
            for other in others:
                await c.execute(f'DROP INDEX "{other["indexname"]}"')
            await c.execute("SET LOCAL enable_seqscan = off")
            rows = await c.fetch("EXPLAIN " + reconciliation._OPEN_ITEMS, "c", None, 200)
        finally:
            await tx.rollback()
    plan = " ".join(r[0] for r in rows)
    assert "workflows_open_reconciliation" in plan, plan
