"""Issue 12, finding 6: each tampering a database superuser can do, named by ``equityflow verify``.

The superuser goes around the append-only triggers (``session_replication_role = replica`` or
``ALTER TABLE ... DISABLE TRIGGER``) and recomputes the SHA-256 chain and ``head_hash``: only a
checkpoint signed with a key the database never holds tells the rewritten history from the
signed one. ``verify`` runs as the CLI, with the public key only.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest
from audit_support import Cli, rechain, rofr_workflow
from typer.testing import CliRunner

from services.audit.keys import generate_key_files, signature_holds
from services.cli import app
from services.store.chain import json_digest
from services.store.db import connect
from workflows.messages import event_routing_key


@pytest.fixture
async def own_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A database of its own: verify runs over every company, and one test truncates."""
    pool = await connect(fresh_database_url)
    yield pool
    await pool.close()


@pytest.fixture
def cli(fresh_database_url: str, tmp_path: Path) -> Cli:
    cli = Cli(fresh_database_url, tmp_path / "checkpoints", tmp_path / "keys" / "checkpoint.pem")
    generate_key_files(cli.key)  # `checkpoint keygen` itself is run in one test below
    return cli


def _company() -> str:
    return f"acme-{uuid.uuid4().hex[:8]}"


async def _checkpointed(cli: Cli) -> None:
    code, out = await cli.checkpoint()
    assert code == 0 and "checkpoint #1 of" in out, out


def _lines_naming(out: str, workflow_id: uuid.UUID) -> str:
    return "\n".join(line for line in out.splitlines() if str(workflow_id) in line)


async def test_verify_names_each_tampering_a_superuser_does(
    own_pool: asyncpg.Pool, cli: Cli
) -> None:
    pool = own_pool
    untouched_company = _company()
    untouched = await rofr_workflow(pool, untouched_company)
    rewritten, moved, edited, rolled_back = [await rofr_workflow(pool, _company()) for _ in "abcd"]
    grafted_from = await rofr_workflow(pool, untouched_company)
    grafted_onto = await rofr_workflow(pool, untouched_company)
    moved_from = await pool.fetchval(
        "SELECT company_id FROM workflows WHERE workflow_id = $1", moved
    )
    await _checkpointed(cli)

    async with pool.acquire() as c, c.transaction():
        await c.execute("SET LOCAL session_replication_role = replica")
        # 1. Rewrite a row (shares 999999, holder mallory), keep data consistent, rechain.
        await c.execute(
            "UPDATE history SET message = jsonb_set(jsonb_set(message::jsonb, '{payload,shares}', "
            "'999999'), '{payload,holder}', '\"mallory\"') WHERE workflow_id = $1 AND seq = 1",
            rewritten,
        )
        data = await c.fetchval(
            "UPDATE workflows SET data = jsonb_set(jsonb_set(data, '{shares}', '999999'), "
            "'{holder}', '\"mallory\"') WHERE workflow_id = $1 RETURNING data",
            rewritten,
        )
        await c.execute(
            "UPDATE history SET data_digest = $2 WHERE workflow_id = $1 AND seq = 2",
            rewritten, json_digest(data),
        )  # fmt: skip
        await rechain(c, rewritten)
        # 3. Edit a workflow's data.
        await c.execute(
            "UPDATE workflows SET data = jsonb_set(data, '{shares}', '999999') "
            "WHERE workflow_id = $1",
            edited,
        )
        # 4. Delete the last row and roll the workflow back to the row before, rechained.
        await c.execute("DELETE FROM history WHERE workflow_id = $1 AND seq = 2", rolled_back)
        await c.execute(
            "UPDATE workflows w SET version = 1, state = h.state_to, final = h.final "
            "FROM history h WHERE h.workflow_id = w.workflow_id AND h.seq = 1 "
            "AND w.workflow_id = $1",
            rolled_back,
        )
        data = await c.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", rolled_back)
        await c.execute(
            "UPDATE history SET data_digest = $2 WHERE workflow_id = $1 AND seq = 1",
            rolled_back, json_digest(data),
        )  # fmt: skip
        await rechain(c, rolled_back)
        # 5. Move a workflow's last row onto another workflow of the company, rechain both.
        await c.execute(
            "UPDATE history SET workflow_id = $2, seq = 3 WHERE workflow_id = $1 AND seq = 2",
            grafted_from, grafted_onto,
        )  # fmt: skip
        for workflow_id, version in ((grafted_from, 1), (grafted_onto, 3)):
            await c.execute(
                "UPDATE workflows w SET version = $2, state = h.state_to, final = h.final "
                "FROM history h WHERE h.workflow_id = w.workflow_id AND h.seq = $2 "
                "AND w.workflow_id = $1",
                workflow_id, version,
            )  # fmt: skip
            await c.execute(
                "UPDATE history h SET data_digest = $3 WHERE workflow_id = $1 AND seq = $2",
                workflow_id, version, json_digest(await c.fetchval(
                    "SELECT data FROM workflows WHERE workflow_id = $1", workflow_id
                )),
            )  # fmt: skip
            await rechain(c, workflow_id)
    # 2. Move a workflow and its rows to another company, around the triggers, rechained.
    async with pool.acquire() as c, c.transaction():
        await c.execute("ALTER TABLE history DISABLE TRIGGER history_append_only")
        for table in ("workflows", "history", "timers", "outbox"):
            await c.execute(
                f"UPDATE {table} SET company_id = 'mallory-co' WHERE workflow_id = $1", moved
            )
        await rechain(c, moved)
        await c.execute("ALTER TABLE history ENABLE TRIGGER history_append_only")

    code, out = await cli.verify()
    assert code == 1, out
    assert "history rewritten" in _lines_naming(out, rewritten)
    assert f"moved from company {moved_from} to mallory-co" in _lines_naming(out, moved)
    assert "data edited" in _lines_naming(out, edited)
    assert "tail deleted" in _lines_naming(out, rolled_back)
    assert "rolled back" in _lines_naming(out, rolled_back)
    assert "tail deleted" in _lines_naming(out, grafted_from)
    assert "row moved from another workflow" in _lines_naming(out, grafted_onto)
    assert not _lines_naming(out, untouched)
    print(out)  # the report as an operator reads it (shown with -s)
    assert "Traceback" not in out

    # Verifying the victim company alone still finds its workflow gone to another company.
    code, out = await cli.verify("--company", moved_from)
    assert code == 1 and f"moved from company {moved_from} to mallory-co" in out, out
    # A checkpoint never blesses tampering: nothing is signed while verify fails.
    code, out = await cli.checkpoint()
    assert code == 1 and "signed nothing" in out, out


async def test_verify_names_a_truncated_history_and_deleted_checkpoints(
    own_pool: asyncpg.Pool, cli: Cli
) -> None:
    workflow_id = await rofr_workflow(own_pool, _company())
    await _checkpointed(cli)
    async with own_pool.acquire() as c, c.transaction():
        await c.execute("ALTER TABLE history DISABLE TRIGGER USER")
        await c.execute("TRUNCATE history")
        await c.execute("ALTER TABLE history ENABLE TRIGGER USER")
    code, out = await cli.verify()
    assert code == 1, out
    assert "the history table is empty but checkpoints counted 2 rows: it was truncated" in out
    assert "has no history" in _lines_naming(out, workflow_id)

    # Then the checkpoints table emptied and the workflows gone: the folder's copies tell.
    async with own_pool.acquire() as c, c.transaction():
        await c.execute("SET LOCAL session_replication_role = replica")
        for table in ("checkpoints", "outbox", "timers", "workflows"):
            await c.execute(f"DELETE FROM {table}")
    code, out = await cli.verify()
    assert code == 1, out
    assert "but not in the database (deleted there, or the checkpoints table truncated)" in out
    assert "workflow missing" in _lines_naming(out, workflow_id)
    assert "workflows table is empty" in out


async def test_a_checkpoint_is_signed_published_and_not_forgeable(
    own_pool: asyncpg.Pool, fresh_database_url: str, tmp_path: Path
) -> None:
    cli = Cli(fresh_database_url, tmp_path / "checkpoints", tmp_path / "keys" / "checkpoint.pem")
    await cli.keygen()
    company = _company()
    await rofr_workflow(own_pool, company)
    await _checkpointed(cli)
    code, out = await cli.verify()
    assert code == 0 and "chain intact" in out and "1 signed checkpoint(s) hold" in out, out
    code, out = await cli.run(["verify"])  # no public key: misconfigured, not "tampered"
    assert code == 2 and "EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE" in out, out
    row = await own_pool.fetchrow("SELECT * FROM checkpoints WHERE company_id = $1", company)
    event = await own_pool.fetchrow(
        "SELECT routing_key, body FROM outbox WHERE company_id = $1 "
        "AND body->>'type' = 'checkpoint_signed'",
        company,
    )
    assert event["routing_key"] == event_routing_key(company, "audit", "checkpoint_signed")
    assert event["body"]["payload"]["statement"] == row["statement"]
    files = list(cli.folder.glob(f"{company}@*.json"))
    assert [json.loads(f.read_text())["statement"] for f in files] == [row["statement"]]
    from cryptography.hazmat.primitives.serialization import load_pem_public_key

    public = load_pem_public_key(Path(str(cli.key) + ".pub").read_bytes())  # noqa: ASYNC240
    assert signature_holds(public, row["statement"], row["signature"])  # type: ignore[arg-type]
    assert not await own_pool.fetchval(
        "SELECT count(*) FROM checkpoints WHERE statement LIKE '%BEGIN PRIVATE%'"
    )

    # A superuser rewrites the statement (its version count) but cannot re-sign it.
    forged = re.sub(r'"version":2', '"version":1', row["statement"])
    async with own_pool.acquire() as c, c.transaction():
        await c.execute("SET LOCAL session_replication_role = replica")
        await c.execute(
            "UPDATE checkpoints SET statement = $2 WHERE company_id = $1", company, forged
        )
    code, out = await cli.verify("--company", company)
    assert code == 1, out
    assert f"checkpoint #1 of {company} in the database: the signature does not hold" in out


def test_checkpoint_without_a_signing_key_is_a_usage_error() -> None:
    unset: dict[str, str | None] = {
        "EQUITYFLOW_CHECKPOINT_KEY_FILE": None, "EQUITYFLOW_CHECKPOINT_KEY": None
    }  # fmt: skip
    result = CliRunner().invoke(app, ["checkpoint"], env=unset)
    assert result.exit_code == 2, result.output
    assert "checkpoint keygen" in result.output and "Traceback" not in result.output
