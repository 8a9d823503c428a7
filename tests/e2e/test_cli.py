"""The operator's commands: a mistake is a usage error that says what is allowed, never a
traceback, and it changes nothing."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import asyncpg
from typer.testing import CliRunner

from services.cli import app

runner = CliRunner()


async def _company_terms(pool: asyncpg.Pool, company: str) -> str | None:
    return await pool.fetchval(  # type: ignore[no-any-return]
        "SELECT terms_id FROM companies WHERE company_id = $1", company
    )


async def test_registering_a_company_under_unknown_terms_lists_the_known_ones(
    database_url: str, pool: asyncpg.Pool
) -> None:
    company = f"acme-{uuid.uuid4().hex[:8]}"
    result = runner.invoke(
        app,
        ["register-company", company, "--terms", "fmp-1999-nso"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 2, result.output
    assert "unknown terms 'fmp-1999-nso'" in result.output
    assert "raydream-1992-iso" in result.output
    assert "Traceback" not in result.output
    assert await _company_terms(pool, company) is None


async def test_a_company_id_no_command_could_carry_is_a_usage_error(
    database_url: str, pool: asyncpg.Pool
) -> None:
    result = runner.invoke(
        app,
        ["register-company", "acme inc", "--terms", "fmp-1998-nso"],
        env={"DATABASE_URL": database_url},
    )
    assert result.exit_code == 2, result.output
    assert "COMPANY_ID" in result.output
    assert await _company_terms(pool, "acme inc") is None


def test_showing_unknown_terms_is_a_usage_error() -> None:
    result = runner.invoke(app, ["terms", "show", "nope"])
    assert result.exit_code == 2, result.output
    assert "fmp-1998-nso" in result.output


async def test_the_simulated_clock_is_never_advanced_backwards(
    database_url: str, pool: asyncpg.Pool
) -> None:
    before = await pool.fetchval("SELECT now FROM sim_clock")
    result = runner.invoke(
        app, ["advance-clock", "--days", "-1"], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 2, result.output
    assert "--days" in result.output
    assert await pool.fetchval("SELECT now FROM sim_clock") == before


async def test_register_company_then_commands_start_under_its_terms(
    database_url: str, pool: asyncpg.Pool
) -> None:
    company = f"acme-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "DATABASE_URL": database_url}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        "register-company",
        company,
        "--terms",
        "raydream-1992-iso",
        "--name",
        "Acme, Inc.",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, out.decode()
    assert await _company_terms(pool, company) == "raydream-1992-iso"


def test_verify_tells_an_unreachable_database_from_a_broken_chain() -> None:
    """Exit 1 means tampered; a database that cannot be read is exit 2, in one line."""
    result = runner.invoke(
        app, ["verify"], env={"DATABASE_URL": "postgresql://postgres@127.0.0.1:1/nowhere"}
    )
    assert result.exit_code == 2
    assert "ConnectionRefusedError" in result.output
    assert "Traceback" not in result.output


async def test_changing_terms_with_open_workflows_needs_force_and_is_audited(
    database_url: str, pool: asyncpg.Pool
) -> None:
    from services.store.companies import register_company

    company = f"acme-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company, "fmp-1998-nso")
    await pool.execute(
        "INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, state, "
        "data, version, final, head_hash, created_at, updated_at) VALUES ($1, $2, 'rofr', "
        "'fmp-1998-nso', '{}', 'election_window', '{}', 1, false, 'h', now(), now())",
        uuid.uuid4(),
        company,
    )
    change = ["register-company", company, "--terms", "raydream-1992-iso"]

    async def cli(*args: str) -> tuple[int | None, str]:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", *args,
            env={**os.environ, "DATABASE_URL": database_url},
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        out, _ = await asyncio.wait_for(process.communicate(), 120)
        return process.returncode, out.decode()

    code, out = await cli(*change)
    assert code == 2, out
    assert "1 open workflow(s)" in out and "--force" in out
    assert "Traceback" not in out and len(out.strip().splitlines()) == 1
    assert await _company_terms(pool, company) == "fmp-1998-nso"

    code, out = await cli(*change, "--force")
    assert code == 0, out
    assert await _company_terms(pool, company) == "raydream-1992-iso"
    entry = await pool.fetchrow(
        "SELECT action, principal_id, detail FROM company_audit WHERE company_id = $1 "
        "ORDER BY id DESC LIMIT 1",
        company,
    )
    assert (entry["action"], entry["principal_id"]) == ("terms_changed", None)
    assert (entry["detail"]["forced"], entry["detail"]["open_workflows"]) == (True, 1)
