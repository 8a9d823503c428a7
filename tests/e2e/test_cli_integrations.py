"""``equityflow integrations``: register a RabbitMQ user for one company, see it, revoke it."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid

import asyncpg
from typer.testing import CliRunner

from services.cli import app
from services.integrations import find_integration

runner = CliRunner()


async def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run ``equityflow`` as a process of its own (it runs its own event loop)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "services.cli", *args, env={**os.environ, **env},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, out.decode()


async def test_an_integration_is_added_with_its_rabbitmq_commands_listed_and_removed(
    database_url: str, pool: asyncpg.Pool
) -> None:
    user = f"acme-cap-table-{uuid.uuid4().hex[:6]}"
    env = {"DATABASE_URL": database_url, "EQUITYFLOW_NAMESPACE": "ef"}
    code, added = await _cli(
        env, "integrations", "add", user, "--company", "acme.eu", "--party", "company",
        "--party", "board",
    )  # fmt: skip
    assert code == 0, added
    integration = await find_integration(pool, user)
    assert integration is not None
    assert (integration.company_id, integration.parties) == ("acme.eu", ("company", "board"))
    assert f"rabbitmqctl add_user {user} '<password>'" in added
    assert f"set_topic_permissions -p / {user} ef.events '^$' '^event\\.acme%2Eeu\\.'" in added
    assert f"set_topic_permissions -p / {user} ef.commands '^command\\.' '^$'" in added
    assert "user_id=" + user in added and "event.acme%2Eeu.#" in added

    code, listed = await _cli(env, "integrations", "list")
    assert f"{user}\tacme.eu\tcompany,board" in listed

    code, removed = await _cli(env, "integrations", "remove", user)
    assert code == 0, removed
    assert await find_integration(pool, user) is None
    code, again = await _cli(env, "integrations", "remove", user)
    assert code == 2 and "no integration" in again and "Traceback" not in again


async def test_an_unknown_party_or_a_services_user_is_a_usage_error(
    database_url: str, pool: asyncpg.Pool
) -> None:
    user = f"acme-{uuid.uuid4().hex[:6]}"
    env = {"DATABASE_URL": database_url, "AMQP_URL": "amqp://svc:secret@rabbitmq:5672/"}
    for name, args in (
        (user, ["--party", "system"]),
        (user, ["--party", "ceo"]),
        (user, []),
        ("svc", ["--party", "owner"]),  # the services' own user
        ("equityflow", ["--party", "owner"]),
    ):
        result = runner.invoke(
            app, ["integrations", "add", name, "--company", "acme", *args], env=env
        )
        assert result.exit_code == 2, result.output
        assert "Traceback" not in result.output
        assert await find_integration(pool, name) is None
    assert "a user of the equityflow services" in result.output
