"""``equityflow keys create|list|revoke``: API keys, managed by whoever has database access.

A key is shown once, when it is created, on standard output alone (so that
``KEY=$(equityflow keys create …)`` works); only the SHA-256 of its secret is stored.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from enum import StrEnum
from typing import Annotated, Any

import typer

from services.auth.principals import UnknownCompany, create_key, list_keys, revoke_key
from services.bootstrap import bootstrap
from services.cli_support import operator_errors, settings_or_exit

keys_app = typer.Typer(
    help="API keys: each bound to one company, its parties and scopes, or an operator's.",
    no_args_is_help=True,
)


class Scope(StrEnum):
    read = "read"
    command = "command"
    admin = "admin"


class PartyName(StrEnum):
    owner = "owner"
    company = "company"
    assignee = "assignee"
    board = "board"
    escrow_agent = "escrow_agent"
    transferee = "transferee"


@keys_app.command("create")
def create(
    company: Annotated[str | None, typer.Option(help="the company the key is bound to")] = None,
    party: Annotated[
        list[PartyName] | None, typer.Option(help="a party the key may act as (repeat)")
    ] = None,
    scope: Annotated[list[Scope] | None, typer.Option(help="read, command, admin (repeat)")] = None,
    operator: Annotated[
        bool, typer.Option("--operator", help="an installation key that registers companies")
    ] = False,
    label: Annotated[str, typer.Option(help="who or what holds the key")] = "",
) -> None:
    """Create an API key and print it, once."""
    parties, scopes = [p.value for p in party or []], [s.value for s in scope or []]
    if operator == (company is not None):
        raise typer.BadParameter("give either --company or --operator", param_hint="--company")
    if operator and (parties or scopes):
        raise typer.BadParameter(
            "an operator key holds no party or scope: it registers companies and gets every "
            "party and scope in each one it registers",
            param_hint="--operator",
        )
    if company is not None and not scopes:
        raise typer.BadParameter("give at least one --scope", param_hint="--scope")

    async def go() -> Any:
        async with _pool() as pool:
            return await create_key(
                pool, company_id=company, parties=parties, scopes=scopes, label=label
            )

    try:
        key = _run(go())
    except UnknownCompany as e:
        typer.echo(f"equityflow: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(key.token)
    typer.echo(f"{key.key_id}: shown once; store it now, it cannot be shown again", err=True)


@keys_app.command("list")
def list_(
    company: Annotated[str | None, typer.Option(help="only keys with a grant in it")] = None,
) -> None:
    """List API keys with their grants (never their secrets)."""

    async def go() -> Any:
        async with _pool() as pool:
            return await list_keys(pool, company)

    for key in _run(go()):
        grants = "; ".join(_grant_text(g) for g in key["grants"]) or "no grant"
        revoked = f"  REVOKED {key['revoked_at']:%Y-%m-%d %H:%M}" if key["revoked_at"] else ""
        label = f"  {key['label']!r}" if key["label"] else ""
        typer.echo(f"{key['principal_id']}{label}  {grants}{revoked}")


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="the key's id, efk_<16 hex>")]) -> None:
    """Revoke an API key: it is refused from the next request on."""

    async def go() -> bool:
        async with _pool() as pool:
            return await revoke_key(pool, key_id)

    if not _run(go()):
        typer.echo(f"equityflow: no active API key {key_id} (equityflow keys list)", err=True)
        raise typer.Exit(2)
    typer.echo(f"{key_id}: revoked")


def _grant_text(grant: dict[str, Any]) -> str:
    if grant["company_id"] is None:
        return "operator (registers companies)"
    parties = ",".join(grant["parties"]) or "no party"
    return f"{grant['company_id']}: {','.join(grant['scopes'])} as {parties}"


@asynccontextmanager
async def _pool() -> AsyncIterator[Any]:
    async with bootstrap(settings_or_exit()) as rt:
        yield rt.pool


def _run(coroutine: Any) -> Any:
    with operator_errors():
        return asyncio.run(coroutine)
