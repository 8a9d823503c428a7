"""An option exercise through the engine on the real PostgreSQL, reading its grant through the
register view: from the notice to the issued certificate (the grant told the shares acquired),
the withholding Election deemed approved when the Tax Date timer fires, and two exercises of one
grant that together ask for more than is exercisable (docs/design.md, "Concurrent exercises of
one grant")."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import Outcome, apply, apply_batch
from services.store import queries, register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, TimerMessage

NOW = datetime(2026, 3, 2, 19, tzinfo=UTC)  # 11:00 in California
TERMS = "fmp-1998-nso"
GRANT = {
    "optionee": "alex",
    "optionee_name": "Alex Rivera",
    "plan": "fmp-1998",
    "shares": 10_000,
    "exercise_price": "0.50",
    "grant_date": "2025-01-15",
    "expiration_date": "2035-01-14",
    "installments": [{"on": f"{y}-01-15", "shares": 2_500} for y in (2026, 2027, 2028, 2029)],
}
CIRCUMSTANCES = {
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


@pytest.fixture
async def grant(pool: asyncpg.Pool, clock: SimulatedClock, company: str) -> uuid.UUID:
    """An FMP option of 10,000 shares, 2,500 exercisable from 2026-01-15 (FMP §3(a))."""
    workflow_id = uuid.uuid4()
    granted = command(company, workflow_id, "grant_option", "board", kind="grant", **GRANT)
    outcome = await apply(pool, granted, clock, TermsCatalog())
    assert (outcome.status, outcome.state) == ("applied", "outstanding"), outcome.refusal
    return workflow_id


def command(
    company: str,
    workflow_id: uuid.UUID,
    name: str,
    party: str,
    kind: str = "option_exercise",
    **payload: Any,
) -> CommandMessage:
    return CommandMessage(
        message_id=str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type=kind,
        command=name,
        actor={"party": party},
        payload=payload,
    )


def notice(company: str, grant: uuid.UUID, shares: int = 1_000) -> CommandMessage:
    return command(
        company, uuid.uuid4(), "deliver_exercise_notice", "owner", grant=str(grant),
        shares=shares, notice={"method": "personal", "delivered_at": "2026-03-02T10:00:00-08:00"},
        exercised_by={"name": "Alex Rivera"},
        payment=[{"form": "check", "amount": f"{shares * 0.5:.2f}"}],
        investment_statement=True, circumstances=CIRCUMSTANCES,
    )  # fmt: skip


async def notice_given(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> uuid.UUID:
    exercise = notice(company, grant)
    outcome = await apply(pool, exercise, clock, TermsCatalog())
    assert (outcome.status, outcome.state) == ("applied", "pending_delivery"), outcome.refusal
    return exercise.workflow_id


async def test_an_exercise_from_notice_to_issued_certificate(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> None:
    workflow_id = await notice_given(pool, clock, company, grant)
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

    # The shares are acquired on issuance (FMP §4(b), §11): the grant is told, once.
    [told] = [m for m in await _sent(pool, company, issue.message_id) if m.workflow_type == "grant"]
    assert (told.workflow_id, told.command, told.actor.party) == (
        grant, "record_exercised_shares", "system",
    )  # fmt: skip
    assert told.payload == {"shares": 1000, "exercised_on": "2026-03-02", "certificate": "C-101"}
    first, again = await apply_batch(pool, [told, told], clock, TermsCatalog())
    assert isinstance(first, Outcome) and first.status == "applied"
    assert isinstance(again, Outcome) and again.status == "duplicate"
    recorded = await queries.get_workflow(pool, company, grant)
    assert recorded is not None and recorded["data"]["exercised"] == 1000


async def _sent(pool: asyncpg.Pool, company: str, cause: str) -> list[CommandMessage]:
    rows = await pool.fetch(
        "SELECT body FROM outbox WHERE company_id = $1 AND exchange = 'commands' "
        "AND body->'caused_by'->>'message_id' = $2 ORDER BY id",
        company, cause,
    )  # fmt: skip
    return [CommandMessage.model_validate(r["body"]) for r in rows]


async def test_the_election_is_deemed_approved_when_the_tax_date_timer_fires(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> None:
    workflow_id = await notice_given(pool, clock, company, grant)
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


def _not_exercisable(outcome: Outcome | object) -> str:
    assert isinstance(outcome, Outcome) and outcome.status == "refused", outcome
    assert outcome.refusal is not None and outcome.refusal["rule"] == "FMP §3(a), §1"
    return str(outcome.refusal["reason"])


async def test_two_exercises_in_one_batch_never_exceed_what_is_exercisable(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> None:
    first, second = notice(company, grant, 2_000), notice(company, grant, 1_000)
    outs = await apply_batch(pool, [first, second], clock, TermsCatalog())
    assert isinstance(outs[0], Outcome) and outs[0].state == "pending_delivery"
    reason = _not_exercisable(outs[1])
    assert reason.startswith("only 500 shares are exercisable on 2026-03-02"), reason
    assert "2000 held for exercises under way" in reason


async def test_two_concurrent_exercises_of_one_grant_one_is_refused_naming_the_number(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> None:
    """Each in its own transaction: the second to take the grant's lock reads the first's
    claim, whichever it is."""
    catalog = TermsCatalog()
    a, b = notice(company, grant, 1_500), notice(company, grant, 1_500)
    outs = await asyncio.gather(apply(pool, a, clock, catalog), apply(pool, b, clock, catalog))
    assert sorted(o.status for o in outs) == ["applied", "refused"], outs
    [refused] = [o for o in outs if o.status == "refused"]
    assert _not_exercisable(refused).startswith("only 1000 shares are exercisable on 2026-03-02")
    # A rejected exercise holds nothing: its shares are free for another.
    [accepted] = [o for o in outs if o.status == "applied"]
    reject = command(
        company, accepted.workflow_id, "reject_exercise", "company", ground="payment_not_honoured",
        reason="the check bounced", rejected_at="2026-03-02T10:30:00-08:00",
    )  # fmt: skip
    assert (await apply(pool, reject, clock, catalog)).state == "rejected"
    again = await apply(pool, notice(company, grant, 2_500), clock, catalog)
    assert again.state == "pending_delivery", again.refusal


async def test_a_termination_for_cause_before_the_notice_voids_the_exercise_under_way(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str, grant: uuid.UUID
) -> None:
    """Dismissed for cause on 2026-03-01, entered after a notice effective on 2026-03-02: the
    termination tells the open exercise, which judges its notice in its place (FMP §5(c))."""
    catalog = TermsCatalog()
    exercise = await notice_given(pool, clock, company, grant)
    end = command(company, uuid.uuid4(), "terminate_service", "company", kind="termination",
                  grant=str(grant), reason="for_cause", terminated_on="2026-03-01")  # fmt: skip
    assert (await apply(pool, end, clock, catalog)).state == "window_closed"
    told = {m.workflow_id: m for m in await _sent(pool, company, end.message_id)}
    assert told[grant].command == "record_grant_termination"
    to_exercise = told[exercise]
    assert (to_exercise.command, to_exercise.actor.party) == ("record_termination", "system")
    assert to_exercise.payload["effective_at"] == "2026-03-01T00:00:00-08:00"
    outcome = await apply(pool, to_exercise, clock, catalog)
    assert (outcome.status, outcome.state) == ("applied", "new"), outcome.refusal
    voided = [e["payload"] for e in outcome.events if e["type"] == "fact_voided"]
    assert voided and voided[0]["clause"] == "FMP §5", voided
