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


_REFUSED = (
    ("UPDATE history SET state_to = 'repurchased' WHERE workflow_id = $1", "history is"),
    ("DELETE FROM history WHERE workflow_id = $1", "history is append-only"),
    ("TRUNCATE history", "history is append-only"),
    ("UPDATE checkpoints SET signature = 'x' WHERE company_id = $1", "checkpoints is"),
    ("DELETE FROM checkpoints WHERE company_id = $1", "checkpoints is append-only"),
    ("TRUNCATE checkpoints", "checkpoints is append-only"),
    ("DELETE FROM workflows WHERE workflow_id = $1", "workflows are never deleted"),
    ("TRUNCATE workflows CASCADE", "workflows are never deleted"),
)


async def test_the_table_owner_cannot_update_delete_or_truncate_history_or_checkpoints(
    pool: asyncpg.Pool,
) -> None:
    """The triggers bind the tables' owner too (only disabling them gets around them)."""
    company, workflow_id = await _workflow_with_history(pool)
    owner = await pool.fetchval("SELECT tableowner FROM pg_tables WHERE tablename = 'history'")
    assert owner == await pool.fetchval("SELECT current_user")
    async with pool.acquire() as c:
        outer = c.transaction()  # rolled back at the end: the shared database keeps no checkpoint
        await outer.start()
        await c.execute(
            "INSERT INTO checkpoints (company_id, seq, statement, signature, key_id, taken_at) "
            "VALUES ($1, 1, '{}', 's', 'k', now())",
            company,
        )
        try:
            for sql, refusal in _REFUSED:
                args = [company if "checkpoints" in sql else workflow_id] if "$1" in sql else []
                with pytest.raises(asyncpg.RaiseError, match=refusal):
                    async with c.transaction():  # a savepoint, rolled back
                        await c.execute(sql, *args)
        finally:
            await outer.rollback()
    assert await pool.fetchval("SELECT count(*) FROM history WHERE workflow_id = $1", workflow_id)


async def test_rows_written_under_hash_version_1_still_verify(pool: asyncpg.Pool) -> None:
    """A row written before hash version 2 keeps verifying under version 1's rule."""
    _, workflow_id = await _workflow_with_history(pool)
    row = await pool.fetchrow(
        "SELECT * FROM history WHERE workflow_id = $1 AND seq = 1", workflow_id
    )
    as_before = {**dict(row), "hash_version": 1, "final": None, "data_digest": None}
    await _as_superuser_around_the_trigger(
        pool,
        "UPDATE history SET hash_version = 1, final = NULL, data_digest = NULL, "
        "terms_digest = NULL, hash = $2 WHERE workflow_id = $1 AND seq = 1",
        workflow_id,
        expected_hash({**as_before, "terms_digest": None}),
    )
    # Its successor (version 2) chained from the old hash: relink it as the engine would have.
    first = await pool.fetchval(
        "SELECT hash FROM history WHERE workflow_id = $1 AND seq = 1", workflow_id
    )
    second = await pool.fetchrow(
        "SELECT h.*, w.workflow_type FROM history h JOIN workflows w USING (workflow_id) "
        "WHERE workflow_id = $1 AND seq = 2",
        workflow_id,
    )
    relinked = expected_hash({**dict(second), "prev_hash": first})
    await _as_superuser_around_the_trigger(
        pool,
        "UPDATE history SET prev_hash = $2, hash = $3 WHERE workflow_id = $1 AND seq = 2",
        workflow_id,
        first,
        relinked,
    )
    await pool.execute("UPDATE workflows SET head_hash = $2 WHERE workflow_id = $1", workflow_id,
                       relinked)  # fmt: skip
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok
    # Changing the version-1 row is still found.
    await _as_superuser_around_the_trigger(
        pool, "UPDATE history SET state_to = 'lapsed' WHERE workflow_id = $1 AND seq = 1",
        workflow_id,
    )  # fmt: skip
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert [(b.seq, "row altered" in b.reason) for b in report.breaks][:1] == [(1, True)]


async def test_a_row_moved_to_another_company_and_edited_data_are_found(
    pool: asyncpg.Pool,
) -> None:
    _, moved = await _workflow_with_history(pool)
    _, edited = await _workflow_with_history(pool)
    await _as_superuser_around_the_trigger(
        pool, "UPDATE history SET company_id = 'mallory' WHERE workflow_id = $1 AND seq = 2", moved
    )
    await pool.execute(
        "UPDATE workflows SET data = jsonb_set(data, '{shares}', '999999') WHERE workflow_id = $1",
        edited,
    )
    reasons = [b.reason for b in (await verify_chain(pool, workflow_id=moved)).breaks]
    assert any("names company mallory" in r and "moved between companies" in r for r in reasons)
    reasons = [b.reason for b in (await verify_chain(pool, workflow_id=edited)).breaks]
    assert reasons == ["workflows.data differs from its last history row (data edited)"]


async def test_an_altered_row_is_found(pool: asyncpg.Pool) -> None:
    company, workflow_id = await _workflow_with_history(pool)
    _, untouched = await _workflow_with_history(pool)
    await _as_superuser_around_the_trigger(
        pool,
        "UPDATE history SET message = jsonb_set(message::jsonb, '{payload,shares}', '10') "
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
    assert [(b.seq, "prev_hash" in b.reason) for b in report.breaks] == [(2, True), (2, False)]
    assert "the row before ended in lapsed" in report.breaks[1].reason


async def test_a_deleted_last_row_is_found(pool: asyncpg.Pool) -> None:
    _, workflow_id = await _workflow_with_history(pool)
    await _as_superuser_around_the_trigger(
        pool, "DELETE FROM history WHERE workflow_id = $1 AND seq = 2", workflow_id
    )
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert report.breaks[0].seq == 1
    assert "version 2" in report.breaks[0].reason
    # The deleted row had cancelled one deadline and set another: the timers tell it too.
    reasons = " ".join(b.reason for b in report.breaks[1:])
    assert "(election_deadline) is cancelled but no history row cancelled it" in reasons
    assert "(sale_window_end) was never set by its workflow's history" in reasons


async def test_a_deadline_edited_or_revived_in_the_timers_table_is_found(
    pool: asyncpg.Pool,
) -> None:
    """timers is not append-only (its status moves on), but what a deadline is, is chained."""
    _, workflow_id = await _workflow_with_history(pool)
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok
    await pool.execute(
        "UPDATE timers SET due_at = due_at + interval '10 years' "
        "WHERE workflow_id = $1 AND status = 'pending'",
        workflow_id,
    )
    await pool.execute(
        "UPDATE timers SET status = 'pending' WHERE workflow_id = $1 AND status = 'cancelled'",
        workflow_id,
    )
    reasons = [b.reason for b in (await verify_chain(pool, workflow_id=workflow_id)).breaks]
    assert any("edited: due_at" in r for r in reasons), reasons
    assert any("was cancelled by its history but is pending (revived)" in r for r in reasons)
