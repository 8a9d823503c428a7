"""Helpers for the audit-trail tests: real workflows, the CLI as a process, a superuser's hand."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg

from services.clock import SimulatedClock
from services.engine import apply
from services.store import register_company
from services.store.chain import GENESIS
from services.store.history import expected_hash
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage

NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}


async def rofr_workflow(pool: asyncpg.Pool, company: str) -> uuid.UUID:
    """One ROFR workflow of ``company``: the transfer notice, then the company's waiver."""
    workflow_id = uuid.uuid4()
    if await pool.fetchval("SELECT 1 FROM companies WHERE company_id = $1", company) is None:
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
    return workflow_id


async def rechain(connection: asyncpg.Connection, workflow_id: uuid.UUID) -> None:
    """Recompute every hash of a workflow's history and its head_hash, as an attacker would."""
    rows = await connection.fetch(
        "SELECT h.*, w.workflow_type FROM history h JOIN workflows w USING (workflow_id) "
        "WHERE h.workflow_id = $1 ORDER BY seq",
        workflow_id,
    )
    prev = GENESIS
    for row in rows:
        digest = expected_hash({**dict(row), "prev_hash": prev})
        await connection.execute(
            "UPDATE history SET prev_hash = $3, hash = $4 WHERE workflow_id = $1 AND seq = $2",
            workflow_id, row["seq"], prev, digest,
        )  # fmt: skip
        prev = digest
    await connection.execute(
        "UPDATE workflows SET head_hash = $2 WHERE workflow_id = $1", workflow_id, prev
    )


@dataclass(frozen=True)
class Cli:
    """``equityflow`` run as its own process, against one database and checkpoint folder."""

    database_url: str
    folder: Path
    key: Path

    def env(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "EQUITYFLOW_CHECKPOINT_DIR": str(self.folder),
            **extra,
        }

    async def run(self, args: Sequence[str], **extra: str) -> tuple[int, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", *args,
            env=self.env(**extra),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 120)
        assert process.returncode is not None
        return process.returncode, out.decode()

    async def keygen(self) -> None:
        code, out = await self.run(["checkpoint", "keygen", str(self.key)])
        assert code == 0, out

    async def checkpoint(self) -> tuple[int, str]:
        return await self.run(["checkpoint"], EQUITYFLOW_CHECKPOINT_KEY_FILE=str(self.key))

    async def verify(self, *args: str) -> tuple[int, str]:
        """verify with the public key only."""
        public = str(self.key) + ".pub"
        return await self.run(["verify", *args], EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE=public)
