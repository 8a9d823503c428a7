"""A workflow's due timers arriving out of due order: two deadlines replicas may claim one
workflow's timers in separate batches and publish the later one first.

The later timer's message fires every deadline of the workflow due by its time, in due order
(FMP §6(d)(iii): the time to agree the value ends before the time to agree a joint appraiser);
the earlier timer's message, arriving after, finds its timer spent and changes nothing. The
workflow ends as it would have with the messages in order.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import apply
from services.store import register_company
from services.terms_catalog import TermsCatalog
from tests.integration.test_engine import NOTICE, NOW, TERMS, command, fire, timer_message

VALUE = "value_agreement_deadline"
JOINT = "joint_appraiser_deadline"
PROPERTY = {"form": "property", "description": "200 shares of Widget Corp. common stock"}


@pytest.fixture(scope="module")
def catalog() -> TermsCatalog:
    return TermsCatalog()


@pytest.fixture
async def clock(pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(pool)
    await simulated.set(NOW)
    return simulated


@pytest.fixture
async def company(pool: asyncpg.Pool) -> str:
    company_id = f"order-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, TERMS, "Order, Inc.")
    return company_id


async def non_cash_rofr(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> tuple[uuid.UUID, dict[str, Any]]:
    """FMP §6(d)(ii)–(iii): a notice offering property opens the election and two windows to
    settle the property's cash value. Returns the workflow and its pending timers by name."""
    workflow_id = uuid.uuid4()
    notice = command(
        company, workflow_id, "deliver_transfer_notice", "owner",
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration=PROPERTY, compliance_proof="opinion of counsel", notice=NOTICE,
    )  # fmt: skip
    outcome = await apply(pool, notice, clock, catalog)
    assert outcome.status == "applied", outcome.refusal
    rows = await pool.fetch(
        "SELECT timer_id, name, due_at FROM timers WHERE workflow_id = $1 AND status = 'pending'",
        workflow_id,
    )
    timers = {r["name"]: r for r in rows}
    assert {VALUE, JOINT} <= set(timers)
    assert timers[VALUE]["due_at"] < timers[JOINT]["due_at"]
    return workflow_id, timers


async def events_of(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT e->>'type' AS type FROM history h, json_array_elements(h.events) AS e "
        "WHERE h.workflow_id = $1 ORDER BY h.seq",
        workflow_id,
    )
    return [r["type"] for r in rows]


def rule_events(types: list[str]) -> list[str]:
    """The rules' events, without the engine's bookkeeping of its timer rows: in order, the
    later timer's message spends the earlier timer's row, recorded as ``deadline_cancelled``
    (README, "Known limits")."""
    return [t for t in types if t not in {"deadline_set", "deadline_cancelled"}]


async def workflow(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    row = await pool.fetchrow(
        "SELECT state, data FROM workflows WHERE workflow_id = $1", workflow_id
    )
    data = dict(row["data"])
    data.pop("timeline")  # how the acts were entered differs; what they decided must not
    return row["state"], data


async def test_a_later_timer_first_fires_the_earlier_in_its_place_and_the_earlier_is_stale(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    in_order, in_order_timers = await non_cash_rofr(pool, clock, catalog, company)
    reversed_, reversed_timers = await non_cash_rofr(pool, clock, catalog, company)
    await clock.set(in_order_timers[JOINT]["due_at"] + timedelta(seconds=1))
    for timers in (in_order_timers, reversed_timers):
        await fire(pool, timers[VALUE])
        await fire(pool, timers[JOINT])

    for name in (VALUE, JOINT):
        message = timer_message(company, in_order, in_order_timers[name])
        assert (await apply(pool, message, clock, catalog)).status == "applied"

    later = await apply(
        pool, timer_message(company, reversed_, reversed_timers[JOINT]), clock, catalog
    )
    assert later.status == "applied"
    earlier = await apply(
        pool, timer_message(company, reversed_, reversed_timers[VALUE]), clock, catalog
    )
    assert (earlier.status, earlier.events) == ("stale", [])
    assert earlier.version == later.version  # nothing recorded after the later one

    assert await workflow(pool, reversed_) == await workflow(pool, in_order)
    # What the rules decided, in due order, whichever message came first.
    assert rule_events(await events_of(pool, reversed_)) == rule_events(
        await events_of(pool, in_order)
    )
    statuses = await pool.fetch(
        "SELECT name, status FROM timers WHERE workflow_id = $1 AND name = ANY($2::text[])",
        reversed_,
        [VALUE, JOINT],
    )
    # Neither is left to fire again: the later one applied, the earlier spent by it.
    assert {r["name"]: r["status"] for r in statuses} == {JOINT: "applied", VALUE: "cancelled"}
