"""The history is append-only, and a change made around the trigger is found by verify_chain."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import apply
from services.store import register_company
from services.store.chain import GENESIS
from services.store.history import expected_hash, verify_chain
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage

NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}


async def _workflow_with_history(pool: asyncpg.Pool) -> tuple[str, uuid.UUID]:
    """A company with one ROFR workflow: the notice, then the company's waiver (two rows)."""
    company, workflow_id = f"acme-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    await register_company(pool, company, "fmp-1998-nso")
    clock, catalog = SimulatedClock(pool), TermsCatalog()
    await clock.set(datetime(2026, 3, 2, 17, tzinfo=UTC))
    notice = dict(
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration={"form": "cash", "price_per_share": 2.5}, compliance_proof="opinion",
        notice=NOTICE,
    )  # fmt: skip
    for name, party, payload in [
        ("deliver_transfer_notice", "owner", notice),
        ("waive_rofr", "company", {"notice": NOTICE}),
    ]:
        message = CommandMessage(
            message_id=str(uuid.uuid4()), company_id=company, workflow_id=workflow_id,
            workflow_type="rofr", command=name, actor={"party": party}, payload=payload,
        )  # fmt: skip
        outcome = await apply(pool, message, clock, catalog)
        assert outcome.status == "applied", outcome.refusal
    return company, workflow_id


async def _as_superuser_around_the_trigger(pool: asyncpg.Pool, sql: str, *args: object) -> None:
    async with pool.acquire() as c, c.transaction():
        await c.execute("ALTER TABLE history DISABLE TRIGGER history_append_only")
        await c.execute(sql, *args)
        await c.execute("ALTER TABLE history ENABLE TRIGGER history_append_only")


async def test_an_intact_history_verifies(pool: asyncpg.Pool) -> None:
    company, workflow_id = await _workflow_with_history(pool)
    report = await verify_chain(pool, company_id=company)
    assert (report.ok, report.rows_checked, report.workflows_checked) == (True, 2, 1)
    assert "chain intact" in report.summary()
    first = await pool.fetchrow(
        "SELECT * FROM history WHERE workflow_id = $1 AND seq = 1", workflow_id
    )
    assert first["prev_hash"] == GENESIS


async def test_history_refuses_update_and_delete(pool: asyncpg.Pool) -> None:
    _, workflow_id = await _workflow_with_history(pool)
    for sql in (
        "UPDATE history SET state_to = 'repurchased' WHERE workflow_id = $1",
        "DELETE FROM history WHERE workflow_id = $1",
    ):
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await pool.execute(sql, workflow_id)


async def test_an_altered_row_is_found(pool: asyncpg.Pool) -> None:
    company, workflow_id = await _workflow_with_history(pool)
    _, untouched = await _workflow_with_history(pool)
    await _as_superuser_around_the_trigger(
        pool,
        "UPDATE history SET message = jsonb_set(message, '{payload,shares}', '10') "
        "WHERE workflow_id = $1 AND seq = 1",
        workflow_id,
    )
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert [(b.workflow_id, b.seq) for b in report.breaks] == [(workflow_id, 1)]
    assert "altered" in report.breaks[0].reason and not report.ok
    assert str(workflow_id) in report.summary()
    assert (await verify_chain(pool, workflow_id=untouched)).ok
    assert not (await verify_chain(pool, company_id=company)).ok


async def test_rehashing_an_altered_row_breaks_the_next_link(pool: asyncpg.Pool) -> None:
    _, workflow_id = await _workflow_with_history(pool)
    row = await pool.fetchrow(
        "SELECT * FROM history WHERE workflow_id = $1 AND seq = 1", workflow_id
    )
    forged_state = "lapsed"
    forged = {**dict(row), "state_to": forged_state, "workflow_type": "rofr"}
    await _as_superuser_around_the_trigger(
        pool,
        "UPDATE history SET state_to = $2, hash = $3 WHERE workflow_id = $1 AND seq = 1",
        workflow_id,
        forged_state,
        expected_hash(forged),
    )
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert [(b.seq, "prev_hash" in b.reason) for b in report.breaks] == [(2, True)]


async def test_a_deleted_last_row_is_found(pool: asyncpg.Pool) -> None:
    _, workflow_id = await _workflow_with_history(pool)
    await _as_superuser_around_the_trigger(
        pool, "DELETE FROM history WHERE workflow_id = $1 AND seq = 2", workflow_id
    )
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert [b.seq for b in report.breaks] == [1]
    assert "version 2" in report.breaks[0].reason
