"""The share register through the engine on the real PostgreSQL: a certificate issued and
transferred on surrender, each with its history row and events; a transfer without surrender
refused with its clause and nothing changed."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import apply
from services.ids import register_message_id, share_register_id
from services.store import queries, register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage
from workflows.shares.register import holders_of_record, holding

NOW = datetime(2026, 5, 4, 22, tzinfo=UTC)  # 15:00 in California
BO = {"id": "bo", "name": "Bo Buyer", "address": "9 Elm St, Fresno CA"}
SIGNED = [{"title": "president", "name": "P. Ames"}, {"title": "secretary", "name": "S. Byrd"}]


@pytest.fixture
async def clock(pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(pool)
    await simulated.set(NOW)
    return simulated


@pytest.fixture
async def company(pool: asyncpg.Pool) -> str:
    company_id = f"fmp-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, "fmp-1998-nso", "Future Media Productions, Inc.")
    return company_id


def command(
    company: str, name: str, message_id: str | None = None, **payload: Any
) -> CommandMessage:
    return CommandMessage(
        message_id=message_id or str(uuid.uuid4()),
        company_id=company,
        workflow_id=uuid.UUID(share_register_id(company)),
        workflow_type="share_register",
        command=name,
        actor={"party": "company", "name": "S. Byrd", "reference": "Secretary"},
        payload=payload,
    )


async def test_a_certificate_issued_on_exercise_then_transferred_on_surrender(
    pool: asyncpg.Pool, clock: SimulatedClock, company: str
) -> None:
    catalog = TermsCatalog()
    opening = command(
        company,
        "open_share_register",
        opened_at="2026-01-05T09:00:00-08:00",
        kept_at="25876 The Old Road, Valencia CA",
        first_number=101,
        signatures=SIGNED,
    )
    assert (await apply(pool, opening, clock, catalog)).state == "kept"
    # as the exercise would send it: its message id derived from its own act
    exercise = str(uuid.uuid4())
    issue = command(
        company,
        "issue_share_certificate",
        register_message_id(exercise, "certificate_issued"),
        holder={"id": "alex", "name": "Alex Rivera", "address": "1 Main St, Valencia CA"},
        shares=1_000,
        issued_at="2026-03-02T10:30:00-08:00",
        legends=[{"key": "first_refusal_and_repurchase", "clause": "FMP §6(f)", "text": "..."}],
        source={"workflow_type": "option_exercise", "workflow_id": exercise},
    )
    first = await apply(pool, issue, clock, catalog)
    again = await apply(pool, issue, clock, catalog)  # the same message twice: applied once
    assert (first.status, first.version, again.version) == ("applied", 2, 2)

    bare = command(
        company,
        "record_share_transfer",
        surrendered=[],
        transferee=BO,
        shares=400,
        effective_at="2026-05-04T12:00:00-07:00",
    )
    refused = await apply(pool, bare, clock, catalog)
    assert refused.status == "refused" and refused.refusal is not None
    assert (refused.refusal["rule"], refused.refusal["code"]) == (
        "BYL Art. VIII §2",
        "surrender_required",
    )
    surrendered = [{"number": "101", "endorsement": "endorsed", "endorsed_by": "Alex Rivera"}]
    transfer = command(
        company,
        "record_share_transfer",
        surrendered=surrendered,
        transferee=BO,
        shares=400,
        effective_at="2026-05-04T12:00:00-07:00",
    )
    done = await apply(pool, transfer, clock, catalog)
    assert (done.status, done.version) == ("applied", 3), done.refusal

    found = await queries.get_workflow(pool, company, uuid.UUID(share_register_id(company)))
    assert found is not None
    data = found["data"]
    assert data["certificates"]["101"]["cancelled"]["replaced_by"] == ["102", "103"]
    assert holders_of_record(data) == 2
    bo = holding(data, "bo")
    assert bo is not None and bo.shares == {"common": 400}
    assert [h["state_to"] for h in found["history"]] == ["kept", "kept", "kept"]
    keys = [
        r["routing_key"]
        for r in await pool.fetch(
            "SELECT routing_key FROM outbox WHERE company_id = $1 ORDER BY id", company
        )
    ]
    prefix = f"event.{company}.share_register."
    assert keys.count(prefix + "share_certificate_issued") == 3
    assert prefix + "share_transfer_recorded" in keys and prefix + "command_refused" in keys
    assert keys[-1] == prefix + "holders_of_record_changed"
