"""``equityflow checkpoint``: sign the history's heads (from cron); ``checkpoint keygen``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from services.audit.checkpoint import take_checkpoints
from services.audit.keys import generate_key_files, private_key
from services.bootstrap import database_pool
from services.cli_support import operator_errors, settings_or_exit

checkpoint_app = typer.Typer(
    help="Sign each company's history heads with a key the database never holds. Run it from "
    "cron on the host that holds EQUITYFLOW_CHECKPOINT_KEY_FILE; `verify` checks against them.",
    invoke_without_command=True,
)


@checkpoint_app.callback()
def checkpoint(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="only this company")] = None,
) -> None:
    """Verify the history, then sign a checkpoint for each company whose heads changed."""
    if ctx.invoked_subcommand is not None:
        return

    config = settings_or_exit()
    with operator_errors():
        key = private_key(config)
    if key is None:
        typer.echo(
            "equityflow: no signing key: set EQUITYFLOW_CHECKPOINT_KEY_FILE "
            "(make one with `equityflow checkpoint keygen PATH`)",
            err=True,
        )
        raise typer.Exit(2)

    async def go() -> bool:
        async with database_pool(config) as pool:
            run = await take_checkpoints(
                pool, key, company_id=company, folder=config.checkpoint_dir
            )
        if not run.audit.report.ok:
            typer.echo(run.audit.report.summary())
            typer.echo("signed nothing: the history does not verify (see above)")
            return False
        for c in run.taken:
            typer.echo(f"{c.company_id}: {c.label()} signed ({len(c.heads())} head(s) changed)")
        if run.unchanged:
            typer.echo(f"unchanged since their last checkpoint: {', '.join(run.unchanged)}")
        for path in run.files:
            typer.echo(f"wrote {path}")
        return True

    with operator_errors():
        ok = asyncio.run(go())
    raise typer.Exit(0 if ok else 1)


@checkpoint_app.command("keygen")
def keygen(
    path: Annotated[Path, typer.Argument(help="where to write the private key (PEM)")],
) -> None:
    """Make a new Ed25519 signing key: PATH (private, mode 0600) and PATH.pub (public)."""
    with operator_errors():
        public = generate_key_files(path)
    typer.echo(f"private key: {path}  (set EQUITYFLOW_CHECKPOINT_KEY_FILE where checkpoints are")
    typer.echo("  taken; keep it off the database host and out of every service's environment)")
    typer.echo(
        f"public key:  {public}  (set EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE where verify runs)"
    )
