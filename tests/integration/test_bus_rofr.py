"""An FMP ROFR run end to end through the bus: commands in over AMQP, events out, timers firing.

FMP §6(d)(iii): the Company has 30 days from receipt of the Disposition Notice to exercise; if
it does not, FMP §6(d)(iv): the owner may sell as noticed within the next 30 days; unsold, the
shares are subject to the right again (``rofr_reattached``). The four bus services run as
``equityflow up`` runs them, on RabbitMQ and on the in-memory broker; time is simulated.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.bus.runner import delete_topology
from services.bus.serve import bus_services
from services.bus.tap import Tap, eventually, tap
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.settings import Settings
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import ActorIn, CommandMessage

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 PST: the notice is delivered in person


def _disposition_notice(workflow_id: uuid.UUID) -> CommandMessage:
    return CommandMessage(
        message_id=f"notice-{workflow_id}",
        company_id="fmp",
        workflow_id=workflow_id,
        workflow_type="rofr",
        command="deliver_disposition_notice",
        actor=ActorIn(party="owner", name="Olivia Owner"),
        terms="fmp-1998-nso",
        payload={
            "holder": "Olivia Owner",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "opinion of counsel: FMP §6(b), (c), (g), (h) not contravened",
            "notice": {"method": "personal", "delivered_at": NOW.isoformat()},
        },
    )


@asynccontextmanager
async def _services(
    url: str, amqp_url: str | None, topology: Topology
) -> AsyncIterator[tuple[Runtime, Any]]:
    pool = await connect(url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await register_company(pool, "fmp", "fmp-1998-nso")  # a command never creates one
        settings = Settings().model_copy(
            update={"amqp_url": amqp_url, "database_url": url, "poll_interval": 0.05}
        )
        rt = Runtime(settings, url, pool, clock, TermsCatalog(), topology)
        async with bus_services(rt) as bus:
            yield rt, bus
    finally:
        await pool.close()


async def _state(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> str | None:
    return await pool.fetchval(  # type: ignore[no-any-return]
        "SELECT state FROM workflows WHERE workflow_id = $1", workflow_id
    )


async def _reaches(pool: asyncpg.Pool, workflow_id: uuid.UUID, state: str) -> None:
    async def there() -> bool:
        return await _state(pool, workflow_id) == state

    await eventually(there, within=15)


async def _timers(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[tuple[str, str, datetime]]:
    rows = await pool.fetch(
        "SELECT name, status, due_at FROM timers WHERE workflow_id = $1 ORDER BY due_at",
        workflow_id,
    )
    return [(r["name"], r["status"], r["due_at"]) for r in rows]


async def _all_sent(pool: asyncpg.Pool) -> bool:
    unsent = await pool.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
    return bool(unsent == 0)


async def test_over_rabbitmq_fmp_notice_no_election_sale_window_then_reattached(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    await _fmp_run_without_election(fresh_database_url, amqp_url, Topology(namespace))


async def test_in_memory_fmp_notice_no_election_sale_window_then_reattached(
    fresh_database_url: str, namespace: str
) -> None:
    await _fmp_run_without_election(fresh_database_url, None, Topology(namespace))


async def _fmp_run_without_election(
    fresh_database_url: str, amqp_url: str | None, topology: Topology
) -> None:
    workflow_id = uuid.uuid4()
    async with AsyncExitStack() as stack:
        if amqp_url:
            stack.push_async_callback(delete_topology, amqp_url, topology)
        rt, bus = await stack.enter_async_context(_services(fresh_database_url, amqp_url, topology))
        events: Tap | None = None
        if amqp_url:
            events = await stack.enter_async_context(
                tap(amqp_url, topology.events_exchange.name, "event.#")
            )
        command = _disposition_notice(workflow_id)
        for _ in range(3):  # delivered three times: one effect
            await bus.send_command(command)
        await _reaches(rt.pool, workflow_id, "election_window")

        assert isinstance(rt.clock, SimulatedClock)
        await rt.clock.advance(timedelta(days=29))  # day 29: the window is still open
        # Read, not waited for: the election deadline is still pending and due after now, so
        # no pass of the deadlines service, however late, can fire it on day 29.
        [(name, status, due_at)] = await _timers(rt.pool, workflow_id)
        assert (name, status) == ("election_deadline", "pending")
        assert due_at > await rt.clock.now()
        assert await _state(rt.pool, workflow_id) == "election_window"

        # The window closes at the end of 2026-04-01 in the company's time zone.
        await rt.clock.advance(timedelta(days=2))
        await _reaches(rt.pool, workflow_id, "owner_sale_window")
        await rt.clock.advance(timedelta(days=31))
        await _reaches(rt.pool, workflow_id, "rofr_reattached")
        await eventually(lambda: _all_sent(rt.pool))
        if events is not None:
            await events.caught_up()

    history = await _fetch(fresh_database_url, workflow_id)
    assert [h["state_to"] for h in history["history"]] == [
        "election_window",
        "owner_sale_window",
        "rofr_reattached",
    ]
    assert history["history"][0]["message_id"] == command.message_id  # applied once of three
    # The election deadline, then the end of the sale window: each fired and applied (once, by
    # the inbox).
    assert [status for _, status in history["timers"]] == ["applied", "applied"]
    assert history["notices"] == Counter({"deadline": 2, "transfer_notice": 1})
    if events is not None:
        seen = Counter(m.message_id for m in events.messages)
        assert set(seen.values()) == {1}, "each event is published once"
        types = Counter(m.routing_key for m in events.messages)
        assert types["event.fmp.rofr.transfer_notice_received"] == 1
        assert types["event.fmp.rofr.deadline_set"] == 2
        assert types["event.fmp.rofr.action_required"] == 2
        assert types["event.fmp.rofr.rofr_reattached"] == 1


async def _fetch(url: str, workflow_id: uuid.UUID) -> dict[str, Any]:
    pool = await connect(url)
    try:
        return {
            "history": await pool.fetch(
                "SELECT state_to, message_id FROM history WHERE workflow_id = $1 ORDER BY seq",
                workflow_id,
            ),
            "timers": [
                (r["name"], r["status"])
                for r in await pool.fetch(
                    "SELECT name, status FROM timers WHERE workflow_id = $1 ORDER BY due_at",
                    workflow_id,
                )
            ],
            "notices": Counter(
                r["kind"]
                for r in await pool.fetch(
                    "SELECT kind FROM notices WHERE workflow_id = $1", workflow_id
                )
            ),
        }
    finally:
        await pool.close()
