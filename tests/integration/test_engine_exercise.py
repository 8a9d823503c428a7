"""An option exercise through the engine on the real PostgreSQL: from the notice to the issued
certificate, and the withholding Election deemed approved when the Tax Date timer fires."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import apply
from services.store import queries, register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, TimerMessage

NOW = datetime(2026, 3, 2, 19, tzinfo=UTC)  # 11:00 in California
TERMS = "fmp-1998-nso"
FACTS = {
    "grant_id": "G-9",
    "optionee": "Alex Rivera",
    "option_type": "nso",
    "grant_date": "2025-01-15",
    "shares": 10_000,
    "exercise_price": "0.50",
    "as_of": "2026-03-02",
    "vested": 2_500,
    "exercisable": 2_500,
    "expiration_date": "2035-01-14",
    "expires_at": "2035-01-14T23:59:59.999999-08:00",
    "fair_market_value": {
        "price_per_share": "2.00",
        "effective_on": "2026-01-10",
        "method": "board_good_faith",
        "resolution": "Board resolution 2026-01",
    },
    "securities_law": {
        "basis": "compliance_confirmed_by_company_and_counsel",
        "reference": "counsel letter 2026-02-20",
    },
}


@pytest.fixture
async def clock(pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(pool)
    await simulated.set(NOW)
    return simulated


@pytest.fixture
async def company(pool: asyncpg.Pool) -> str:
    company_id = f"fmp-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, TERMS, "Future Media Productions, Inc.")
    return company_id


def command(
    company: str, workflow_id: uuid.UUID, name: str, party: str, **payload: Any
) -> CommandMessage:
    return CommandMessage(
        message_id=str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="option_exercise",
        command=name,
        actor={"party": party},
        payload=payload,
    )


async def notice_given(pool: asyncpg.Pool, clock: SimulatedClock, company: str) -> uuid.UUID:
    workflow_id = uuid.uuid4()
    exercise = command(
        company, workflow_id, "deliver_exercise_notice", "owner",
        shares=1_000, notice={"method": "personal", "delivered_at": "2026-03-02T10:00:00-08:00"},
        exercised_by={"name": "Alex Rivera"}, payment=[{"form": "check", "amount": "500"}],
        investment_statement=True, facts=FACTS,
    )  # fmt: skip
    outcome = await apply(pool, exercise, clock, TermsCatalog())
    assert (outcome.status, outcome.state) == ("applied", "pending_delivery"), outcome.refusal
    return workflow_id


async def test_an_exercise_from_notice_to_issued_certificate(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str
) -> None:
    workflow_id = await notice_given(pool, clock, company)
    issue = command(
        company, workflow_id, "issue_certificate", "company",
        certificate_number="C-101", issued_at="2026-03-02T10:30:00-08:00",
    )  # fmt: skip
    outcome = await apply(pool, issue, clock, TermsCatalog())
    assert (outcome.status, outcome.state) == ("applied", "completed")
    found = await queries.get_workflow(pool, company, workflow_id)
    assert found is not None and found["final"]
    assert found["data"]["certificate"]["legends"][0]["clause"] == "FMP §6(f)"
    assert [h["state_to"] for h in found["history"]] == ["pending_delivery", "completed"]
    keys = await pool.fetch(
        "SELECT routing_key FROM outbox WHERE company_id = $1 ORDER BY id", company
    )
    assert f"event.{company}.option_exercise.certificate_issued" in [r["routing_key"] for r in keys]


async def test_the_election_is_deemed_approved_when_the_tax_date_timer_fires(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str
) -> None:
    workflow_id = await notice_given(pool, clock, company)
    catalog = TermsCatalog()
    steps = [
        command(company, workflow_id, "require_withholding", "company",
                amount="300", tax_date="2026-03-16", fair_market_value="2.00"),
        command(company, workflow_id, "elect_withholding", "owner",
                method="withhold_shares", portion="all", rate_basis="flat",
                notice={"method": "personal", "delivered_at": "2026-03-02T10:30:00-08:00"}),
    ]  # fmt: skip
    for step in steps:
        assert (await apply(pool, step, clock, catalog)).status == "applied"
    [timer] = (await queries.get_workflow(pool, company, workflow_id) or {})["deadlines"]
    assert (timer["name"], timer["party"], timer["clause"]) == (
        "tax_date",
        "board",
        "FMP §13(c)(iii)",
    )
    assert timer["due_at"] == datetime(2026, 3, 17, 6, 59, 59, 999999, tzinfo=UTC)
    await clock.set(timer["due_at"] + timedelta(seconds=1))
    await pool.execute(
        "UPDATE timers SET status = 'fired', fired_at = due_at, refire_at = due_at "
        "WHERE timer_id = $1 AND status = 'pending'",
        timer["timer_id"],
    )
    fired = TimerMessage(
        message_id=str(timer["timer_id"]), company_id=company, workflow_id=workflow_id,
        workflow_type="option_exercise", timer="tax_date", due_at=timer["due_at"],
    )  # fmt: skip
    outcome = await apply(pool, fired, clock, catalog)
    assert (outcome.status, outcome.state) == ("applied", "pending_delivery")
    assert "withholding_election_deemed_approved" in [e["type"] for e in outcome.events]
    issue = command(
        company, workflow_id, "issue_certificate", "company",
        certificate_number="C-102", issued_at="2026-03-17T00:00:00-07:00",
    )  # fmt: skip
    outcome = await apply(pool, issue, clock, catalog)
    assert outcome.state == "completed"
    found = await queries.get_workflow(pool, company, workflow_id)
    assert found is not None
    assert found["data"]["certificate"]["shares"] == {
        "purchased": 1000,
        "withheld": "150",
        "issued": 850,
    }
