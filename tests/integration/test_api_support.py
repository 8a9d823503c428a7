"""What the HTTP API tests share: an API on the real PostgreSQL, a simulated clock, commands,
and API keys.

The client authenticates with an operator key: every company it registers (``Api.register``)
grants it every party and scope, as for an administrator. ``Api.key`` issues a narrower key of
one company, and ``Api.as_key`` sends a request with it.

No tests here; each ``test_api_*`` module builds its client with ``api_client``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from services.api.app import create_app
from services.auth.principals import create_key
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.settings import Settings
from services.store.db import connect
from services.terms_catalog import TermsCatalog

PT = ZoneInfo("America/Los_Angeles")
# 2026-03-20 09:00 PDT: after every notice the tests deliver, inside their 30-day windows.
NOW = datetime(2026, 3, 20, 9, 0, tzinfo=PT)
FMP = "fmp-1998-nso"
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class Api:
    client: httpx.AsyncClient
    runtime: Runtime

    async def register(self, terms_id: str = FMP) -> str:
        company = f"acme-{uuid.uuid4().hex[:8]}"
        r = await self.client.put(f"/api/v1/companies/{company}", json={"terms_id": terms_id})
        assert r.status_code == 200, r.text
        return company

    async def send(self, company: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.post(f"/api/v1/companies/{company}/commands", json=body)

    async def workflow(self, company: str, workflow_id: str) -> httpx.Response:
        return await self.client.get(f"/api/v1/companies/{company}/workflows/{workflow_id}")

    async def key(
        self, company: str | None, parties: Sequence[str] = (), scopes: Sequence[str] = ()
    ) -> str:
        """A new API key: of ``company`` with these parties and scopes, or an operator's."""
        key = await create_key(
            self.runtime.pool, company_id=company, parties=list(parties), scopes=list(scopes)
        )
        return key.token

    async def as_key(
        self, token: str | None, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """A request with ``token`` (None: with no Authorization header at all)."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        request = self.client.build_request(method, path, **kwargs)
        request.headers.pop("Authorization", None)
        request.headers.update(headers)
        return await self.client.send(request)


@asynccontextmanager
async def api_client(database_url: str, *, simulated: bool = True) -> AsyncIterator[Api]:
    pool = await connect(database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        settings = Settings().model_copy(
            update={"database_url": database_url, "simulated_clock": simulated}
        )
        runtime = Runtime(
            settings=settings,
            database_url=database_url,
            pool=pool,
            clock=clock if simulated else _FixedClock(),
            catalog=TermsCatalog(),
            topology=Topology("eftest-api"),
        )
        operator = await create_key(pool, company_id=None, parties=[], scopes=["admin"])
        transport = httpx.ASGITransport(app=create_app(runtime))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://equityflow",
            headers={"Authorization": f"Bearer {operator.token}"},
        ) as client:
            yield Api(client, runtime)
    finally:
        await pool.close()


class _FixedClock:
    """A clock that is not the simulated one (the API must refuse to advance it)."""

    async def now(self) -> datetime:
        return NOW


def disposition_notice(
    delivered: str = "2026-03-02T10:00:00-08:00",
    *,
    workflow_id: str | None = None,
    message_id: str | None = None,
    **payload: Any,
) -> dict[str, Any]:
    """FMP §6(d)(ii): the owner's Disposition Notice, delivered in person at ``delivered``."""
    return {
        "message_id": message_id or f"notice-{uuid.uuid4()}",
        "workflow_id": workflow_id or str(uuid.uuid4()),
        "workflow_type": "rofr",
        "command": "deliver_disposition_notice",
        "actor": {"party": "owner", "name": "Alice Owner"},
        "payload": {
            "holder": "alice",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "counsel's letter: no breach of FMP §6(b), (c), (g), (h)",
            "notice": {"method": "personal", "delivered_at": delivered},
            **payload,
        },
    }


def command(workflow_id: str, name: str, party: str, **payload: Any) -> dict[str, Any]:
    return {
        "message_id": f"{name}-{uuid.uuid4()}",
        "workflow_id": workflow_id,
        "workflow_type": "rofr",
        "command": name,
        "actor": {"party": party},
        "payload": payload,
    }
