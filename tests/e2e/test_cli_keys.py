"""``equityflow keys create|list|revoke`` as an operator runs them: a key is printed once, only
its digest is stored, it works at once over HTTP and stops working when revoked; a mistake is
one line on stderr and exit 2."""

from __future__ import annotations

import asyncio
import hashlib
import os
import sys
import uuid

import asyncpg
import httpx
from test_up import running_up

from services.store.companies import register_company


async def _cli(database_url: str | None, *args: str, **env: str) -> tuple[int, str, str]:
    environment = {**os.environ, **env}
    if database_url is not None:
        environment["DATABASE_URL"] = database_url
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.cli",
        *args,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_key_is_shown_once_stored_as_a_digest_listed_without_it_and_revoked(
    database_url: str, pool: asyncpg.Pool
) -> None:
    company = f"acme-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company, "fmp-1998-nso")
    code, out, err = await _cli(
        database_url, "keys", "create", "--company", company, "--party", "owner",
        "--scope", "read", "--scope", "command", "--label", "cap table sync",
    )  # fmt: skip
    assert code == 0, err
    token = out.strip()
    assert token.startswith("efk_") and "\n" not in token
    assert "shown once" in err
    key_id, secret = token[:20], token[21:]
    row = await pool.fetchrow("SELECT * FROM principals WHERE principal_id = $1", key_id)
    assert row["secret_sha256"] == hashlib.sha256(secret.encode()).digest()
    assert secret not in str(dict(row))

    code, out, _ = await _cli(database_url, "keys", "list", "--company", company)
    assert code == 0
    assert out.strip() == f"{key_id}  'cap table sync'  {company}: read,command as owner"
    assert secret not in out

    code, out, _ = await _cli(database_url, "keys", "revoke", key_id)
    assert (code, out.strip()) == (0, f"{key_id}: revoked")
    assert "REVOKED" in (await _cli(database_url, "keys", "list", "--company", company))[1]
    actions = await pool.fetch(
        "SELECT action FROM company_audit WHERE company_id = $1 ORDER BY id", company
    )
    assert [a["action"] for a in actions] == ["registered", "key_created", "key_revoked"]


async def test_key_mistakes_are_one_line_and_exit_2(database_url: str) -> None:
    unregistered = f"ghost-{uuid.uuid4().hex[:8]}"
    cases = [
        (("keys", "create", "--company", unregistered, "--scope", "read"), "register it first"),
        (("keys", "create", "--scope", "read"), "--company or --operator"),
        (("keys", "create", "--operator", "--company", "x"), "--company or --operator"),
        (("keys", "create", "--operator", "--scope", "read"), "operator key holds no"),
        (("keys", "create", "--company", "x"), "--scope"),
        (("keys", "create", "--company", "x", "--scope", "root"), "root"),
        (("keys", "revoke", "efk_0000000000000000"), "no active API key"),
    ]
    for args, says in cases:
        code, out, err = await _cli(database_url, *args)
        assert code == 2, (args, out, err)
        assert says in err, (args, err)
        assert "Traceback" not in err


async def test_a_key_created_while_up_runs_works_at_once_and_a_revoked_one_is_refused(
    tmp_path_factory: object,
) -> None:
    from pathlib import Path

    data_dir = Path(str(tmp_path_factory.mktemp("keys-up")))  # type: ignore[attr-defined]
    async with running_up(data_dir) as up:
        company = f"acme-{uuid.uuid4().hex[:8]}"
        r = await up.http.put(f"/api/v1/companies/{company}", json={"terms_id": "fmp-1998-nso"})
        assert r.status_code == 200, r.text
        env = {"EQUITYFLOW_DATA_DIR": str(data_dir)}
        code, out, err = await _cli(
            None, "keys", "create", "--company", company, "--scope", "read", **env
        )
        assert code == 0, err
        token = out.strip()
        path = f"/api/v1/companies/{company}/workflows"
        async with httpx.AsyncClient(base_url=str(up.http.base_url)) as client:
            headers = {"Authorization": f"Bearer {token}"}
            assert (await client.get(path, headers=headers)).status_code == 200
            assert (await _cli(None, "keys", "revoke", token[:20], **env))[0] == 0
            assert (await client.get(path, headers=headers)).status_code == 401
