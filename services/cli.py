"""``equityflow``: run the service, one service, the demo, and the operator's tools."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from services.settings import Settings

app = typer.Typer(
    help="equityflow: legal workflows of private-company equity, as persisted state machines.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
terms_app = typer.Typer(help="Terms files: the shipped presets and a company's own.")
app.add_typer(terms_app, name="terms")


@contextlib.contextmanager
def _operator_errors() -> Iterator[None]:
    """An unreachable database, an unmigrated schema or a bad terms file: one line, exit 2.

    Exit 2 keeps such failures apart from the answers the commands exist to give (``verify``
    exits 1 for a broken chain), so a monitor can tell "tampered" from "misconfigured".
    """
    import asyncpg

    from workflows.terms import TermsError

    try:
        yield
    except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TermsError) as e:
        typer.echo(f"equityflow: {type(e).__name__}: {e}", err=True)
        raise typer.Exit(2) from None


class Service(StrEnum):
    engine = "engine"
    deadlines = "deadlines"
    notices = "notices"
    relay = "relay"
    api = "api"


def _settings(**overrides: object) -> Settings:
    settings = Settings()
    return settings.model_copy(update={k: v for k, v in overrides.items() if v is not None})


@app.command()
def up(
    port: Annotated[int | None, typer.Option(help="HTTP port")] = None,
    simulated_clock: Annotated[
        bool | None, typer.Option("--simulated-clock/--real-clock", help="demo/test time")
    ] = None,
) -> None:
    """Run every service in one process (embedded PostgreSQL and in-memory broker by default)."""
    from services.processes import run_all

    with _operator_errors():
        asyncio.run(run_all(_settings(http_port=port, simulated_clock=simulated_clock)))


@app.command()
def serve(service: Service) -> None:
    """Run one service, for docker-compose and scale-out (needs DATABASE_URL and AMQP_URL)."""
    from services.processes import run_one

    with _operator_errors():
        asyncio.run(run_one(_settings(), service.value))


@app.command()
def migrate() -> None:
    """Apply the database migrations (also done on every start)."""
    from services.runtime import resolve_database_url
    from services.store.db import connect
    from services.store.db import migrate as apply_migrations

    async def go() -> None:
        pool = await connect(await resolve_database_url(_settings()))
        try:
            applied = await apply_migrations(pool)
            typer.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")
        finally:
            await pool.close()

    with _operator_errors():
        asyncio.run(go())


@app.command()
def verify(company: Annotated[str | None, typer.Option(help="only this company")] = None) -> None:
    """Verify the hash chain of every workflow's history; exit 1 if any link is broken."""
    from services.runtime import resolve_database_url
    from services.store.db import connect
    from services.store.history import verify_chain

    async def go() -> bool:
        pool = await connect(await resolve_database_url(_settings()))
        try:
            report = await verify_chain(pool, company_id=company)
        finally:
            await pool.close()
        typer.echo(report.summary())
        return report.ok

    with _operator_errors():
        ok = asyncio.run(go())
    raise typer.Exit(0 if ok else 1)


def _known_terms(terms_id: str, param_hint: str) -> None:
    """Refuse an unknown terms id as a usage error that lists the known ones."""
    from services.terms_catalog import TermsCatalog, UnknownTerms

    with _operator_errors():  # a company terms file in error: one line, exit 2
        catalog = TermsCatalog(list(_settings().terms_dirs))
    try:
        catalog.get(terms_id)
    except UnknownTerms as e:
        raise typer.BadParameter(str(e), param_hint=param_hint) from None


@app.command("register-company")
def register_company(
    company_id: Annotated[
        str, typer.Argument(help="letters, digits, '_', '.', '-': as commands name it")
    ],
    terms: Annotated[str, typer.Option(help="terms id, e.g. fmp-1998-nso")],
    name: str = "",
) -> None:
    """Register a company and the terms its new workflows start under."""
    from services.runtime import open_runtime
    from services.store.companies import register_company as register

    # A company id no command could carry (workflows.messages.CommandMessage) is never useful.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", company_id):
        raise typer.BadParameter(
            "use 1 to 100 letters, digits, '_', '.' or '-'", param_hint="COMPANY_ID"
        )
    _known_terms(terms, "--terms")  # before starting a database for nothing

    async def go() -> None:
        async with open_runtime(_settings()) as rt:
            await register(rt.pool, company_id, terms, name)
        typer.echo(f"{company_id}: terms {terms}")

    with _operator_errors():
        asyncio.run(go())


@app.command("advance-clock")
def advance_clock(
    days: Annotated[int, typer.Option(min=0)] = 0,
    hours: Annotated[int, typer.Option(min=0)] = 0,
    minutes: Annotated[int, typer.Option(min=0)] = 0,
) -> None:
    """Advance the shared simulated clock (demo/test mode only)."""
    from services.clock import SimulatedClock
    from services.runtime import open_runtime

    async def go() -> None:
        async with open_runtime(_settings(simulated_clock=True)) as rt:
            assert isinstance(rt.clock, SimulatedClock)
            now = await rt.clock.advance(timedelta(days=days, hours=hours, minutes=minutes))
        typer.echo(f"simulated now: {now.isoformat()}")

    with _operator_errors():
        asyncio.run(go())


@app.command()
def demo() -> None:
    """Drive an FMP and an RD transfer through simulated time and print the timeline."""
    from services.demo import run_demo

    with _operator_errors():
        asyncio.run(run_demo(_settings()))


@app.command("export-topology")
def export_topology(
    out: Annotated[Path, typer.Option(help="definitions file")] = Path(
        "deploy/rabbitmq/definitions.json"
    ),
) -> None:
    """Write the RabbitMQ definitions (exchanges, quorum queues, bindings) declared in code."""
    from services.bus.topology import Topology

    out.parent.mkdir(parents=True, exist_ok=True)
    topology = Topology(_settings().namespace)
    out.write_text(json.dumps(topology.to_definitions(), indent=2, sort_keys=True) + "\n")
    typer.echo(f"wrote {out}")


@app.command()
def asyncapi() -> None:
    """Print the AsyncAPI document of the message contract, generated from the code."""
    from services.bus import asyncapi_document

    typer.echo(json.dumps(asyncapi_document(), indent=2))


@app.command()
def redrive(
    limit: Annotated[
        int | None, typer.Option(min=1, help="at most this many messages (default: all)")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="say what would be done; move nothing")
    ] = False,
    include_poison: Annotated[
        bool, typer.Option("--all", help="send back poison messages too (they fail again)")
    ] = False,
) -> None:
    """Send dead-lettered messages back to the work queue they were dead-lettered from.

    Messages parked after failing too often (a long database outage) go back to be handled;
    poison messages (malformed, schema-invalid) stay unless --all is given.
    """
    from services.bus.redrive import RedriveError
    from services.bus.redrive import redrive as redrive_dead_letters
    from services.bus.topology import Topology

    settings = _settings()
    if not settings.amqp_url:
        typer.echo("equityflow: redrive needs AMQP_URL (an in-memory broker keeps none)", err=True)
        raise typer.Exit(2)
    amqp_url = settings.amqp_url

    async def go() -> None:
        letters = await redrive_dead_letters(
            amqp_url,
            Topology(settings.namespace),
            limit=limit,
            dry_run=dry_run,
            include_poison=include_poison,
        )
        for letter in letters:
            typer.echo(letter.line())
        sent = sum(letter.redriven for letter in letters)
        if dry_run:
            typer.echo(f"dry run: {len(letters)} dead letters looked at, none moved")
        else:
            typer.echo(f"{sent} sent back, {len(letters) - sent} left in the dead-letter queue")

    try:
        with _operator_errors():
            asyncio.run(go())
    except RedriveError as e:
        typer.echo(f"equityflow: {e}", err=True)
        raise typer.Exit(2) from None


@app.command()
def clauses(
    terms_id: Annotated[
        str | None, typer.Argument(help="one terms document (default: all)")
    ] = None,
) -> None:
    """Every clause the terms cite, with their values and the rule functions enforcing them."""
    from services.clauses_page import render
    from services.terms_catalog import TermsCatalog

    with _operator_errors():
        catalog = TermsCatalog(list(_settings().terms_dirs))
    if terms_id is not None:
        _known_terms(terms_id, "TERMS_ID")
    typer.echo(render(catalog, [terms_id] if terms_id else None), nl=False)


@terms_app.command("list")
def terms_list() -> None:
    """List the terms ids available (presets and extra folders)."""
    from services.terms_catalog import TermsCatalog

    with _operator_errors():
        for terms_id in TermsCatalog(list(_settings().terms_dirs)).ids():
            typer.echo(terms_id)


@terms_app.command("show")
def terms_show(terms_id: str) -> None:
    """Print a terms document with the clause behind each value."""
    from services.terms_catalog import TermsCatalog

    _known_terms(terms_id, "TERMS_ID")
    with _operator_errors():
        raw = TermsCatalog(list(_settings().terms_dirs)).raw(terms_id)
    typer.echo(json.dumps(raw, indent=2, default=str))


if __name__ == "__main__":
    app()
