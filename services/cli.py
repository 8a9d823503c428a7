"""``equityflow``: run the service, one service, the demo, and the operator's tools.

An operator's mistake (a setting that does not parse, a missing URL, a command that does not
apply here) is answered in one line on stderr, with exit code 2, never with a traceback.
"""

from __future__ import annotations

import asyncio
import json
import re
import signal
import threading
from collections.abc import Coroutine
from datetime import timedelta
from enum import StrEnum
from importlib import metadata
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml

from services.audit.keys import public_key
from services.audit.verify import audit
from services.bootstrap import bootstrap, database_pool
from services.bus.asyncapi import asyncapi_document
from services.bus.permissions import installation_definitions
from services.bus.redrive import RedriveError
from services.bus.redrive import redrive as redrive_dead_letters
from services.bus.topology import Topology
from services.clauses_page import render
from services.cli_checkpoint import checkpoint_app
from services.cli_integrations import integrations_app
from services.cli_keys import keys_app
from services.cli_support import operator_errors, refuse, settings_or_exit
from services.clock import SimulatedClock
from services.demo import run_demo
from services.processes import run_all, run_one
from services.settings import Settings
from services.store.companies import OpenWorkflows
from services.store.companies import register_company as register
from services.store.db import migrate as apply_migrations
from services.terms_catalog import TermsCatalog, UnknownTerms

app = typer.Typer(
    help="equityflow: legal workflows of private-company equity, as persisted state machines.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    # Plain help: the rich panels label every flag "<bool>", as if it took a value.
    rich_markup_mode=None,
    add_completion=False,
)
terms_app = typer.Typer(
    help="Terms files: the shipped presets and a company's own.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(terms_app, name="terms")
app.add_typer(checkpoint_app, name="checkpoint")
app.add_typer(integrations_app, name="integrations")
app.add_typer(keys_app, name="keys")


def _topology(settings: Settings) -> Topology:
    return Topology(settings.namespace, engine_shards=settings.engine_shards)


def _run_until_stopped(service: Coroutine[Any, Any, None]) -> None:
    """Run a long-lived service; Ctrl-C before it is up (or a second one) ends it quietly."""
    try:
        with operator_errors():
            asyncio.run(service)
    except KeyboardInterrupt:
        typer.echo("equityflow: interrupted", err=True)
        raise typer.Exit(130) from None
    finally:
        # Everything is stopped; the interpreter only exits now. Python resets its handlers
        # while it finalises, where a late Ctrl-C would kill the process by the signal.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)


def _version(show: bool) -> None:
    if show:
        typer.echo(f"equityflow {metadata.version('equityflow')}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """equityflow: legal workflows of private-company equity, as persisted state machines."""


class Service(StrEnum):
    engine = "engine"
    deadlines = "deadlines"
    notices = "notices"
    relay = "relay"
    api = "api"


@app.command()
def up(
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="HTTP port (default 8000)")
    ] = None,
    host: Annotated[
        str | None,
        typer.Option(help="HTTP address (default 127.0.0.1; 0.0.0.0 for every interface)"),
    ] = None,
    simulated_clock: Annotated[
        bool | None, typer.Option("--simulated-clock/--real-clock", help="demo/test time")
    ] = None,
) -> None:
    """Run every service in one process (embedded PostgreSQL and in-memory broker by default)."""
    settings = settings_or_exit(http_port=port, http_host=host, simulated_clock=simulated_clock)

    _run_until_stopped(run_all(settings))


@app.command()
def serve(service: Service) -> None:
    """Run one service, for docker-compose and scale-out: every service needs DATABASE_URL,
    and all but api need AMQP_URL."""
    settings = settings_or_exit()
    needed = {"DATABASE_URL": settings.database_url}
    if service is not Service.api:  # the API never touches the broker: commands go to the engine
        needed["AMQP_URL"] = settings.amqp_url
    missing = [name for name, value in needed.items() if not value]
    if missing:
        refuse(
            f"serve {service.value} needs {' and '.join(missing)}: a service run on its own "
            "cannot share the embedded PostgreSQL or the in-memory broker; set "
            f"{' and '.join(missing)}, or run every service in one process with `equityflow up`"
        )

    _run_until_stopped(run_one(settings, service.value))


@app.command()
def migrate() -> None:
    """Apply the database migrations (also done on every start)."""

    async def go() -> None:
        async with database_pool(settings_or_exit()) as pool:
            applied = await apply_migrations(pool)
        typer.echo(f"applied: {', '.join(applied)}" if applied else "schema is up to date")

    with operator_errors():
        asyncio.run(go())


@app.command()
def verify(company: Annotated[str | None, typer.Option(help="only this company")] = None) -> None:
    """Verify every workflow's hash chain and the signed checkpoints; exit 1 if tampered.

    Checkpoints are read from the database and from EQUITYFLOW_CHECKPOINT_DIR, and checked with
    EQUITYFLOW_CHECKPOINT_PUBLIC_KEY_FILE (the public key is enough).
    """
    settings = settings_or_exit()

    async def go() -> bool:
        key = public_key(settings)
        async with (
            database_pool(settings) as pool,
            pool.acquire() as c,
            c.transaction(isolation="repeatable_read", readonly=True),
        ):
            result = await audit(c, key, company_id=company, folder=settings.checkpoint_dir)
        typer.echo(result.report.summary())
        return result.report.ok

    with operator_errors():
        ok = asyncio.run(go())
    raise typer.Exit(0 if ok else 1)


def _known_terms(terms_id: str, param_hint: str) -> None:
    """Refuse an unknown terms id in one line that lists the known ones (exit 2)."""
    with operator_errors():  # a company terms file in error: one line, exit 2
        catalog = TermsCatalog(list(settings_or_exit().terms_dirs))
    try:
        catalog.get(terms_id)
    except UnknownTerms as e:
        refuse(f"{param_hint}: {e}")


@app.command("register-company")
def register_company(
    company_id: Annotated[
        str, typer.Argument(help="letters, digits, '_', '.', '-': as commands name it")
    ],
    terms: Annotated[str, typer.Option(help="terms id, e.g. fmp-1998-nso")],
    name: str = "",
    force: Annotated[
        bool, typer.Option("--force", help="change the terms even though workflows are open")
    ] = False,
) -> None:
    """Register a company and the terms its new workflows start under (audited)."""
    # A company id no command could carry (workflows.messages.CommandMessage) is never useful.
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,100}", company_id):
        raise typer.BadParameter(
            "use 1 to 100 letters, digits, '_', '.' or '-'", param_hint="COMPANY_ID"
        )
    _known_terms(terms, "--terms")  # before starting a database for nothing

    async def go() -> None:
        async with bootstrap(settings_or_exit()) as rt:
            await register(rt.pool, company_id, terms, name, force=force)
        typer.echo(f"{company_id}: terms {terms}")

    try:
        with operator_errors():
            asyncio.run(go())
    except OpenWorkflows as e:
        typer.echo(f"equityflow: {e} (--force)", err=True)
        raise typer.Exit(2) from None


@app.command("advance-clock")
def advance_clock(
    days: Annotated[int, typer.Option(min=0)] = 0,
    hours: Annotated[int, typer.Option(min=0)] = 0,
    minutes: Annotated[int, typer.Option(min=0)] = 0,
    simulated_clock: Annotated[
        bool | None,
        typer.Option(
            "--simulated-clock",
            help="the installation runs on the simulated clock (as EQUITYFLOW_SIMULATED_CLOCK)",
        ),
    ] = None,
) -> None:
    """Advance the shared simulated clock of an installation started with --simulated-clock.

    An installation on the real clock is refused, as over HTTP: writing the simulated clock
    there would make a later simulated start begin in the future and fire its deadlines at once.
    """
    settings = settings_or_exit(simulated_clock=simulated_clock)
    if not settings.simulated_clock:
        refuse(
            "the clock is real: advance-clock moves only the simulated clock of an installation "
            "started with --simulated-clock; for one, set EQUITYFLOW_SIMULATED_CLOCK=true (or "
            "pass --simulated-clock) here too, or POST /api/v1/clock/advance to its API"
        )

    async def go() -> None:
        async with bootstrap(settings) as rt:
            assert isinstance(rt.clock, SimulatedClock)
            if await rt.clock.started() is None:
                refuse(
                    "no simulated clock has run on this database: start the installation with "
                    "`equityflow up --simulated-clock` first (a real-clock one cannot be advanced)"
                )
            now = await rt.clock.advance(timedelta(days=days, hours=hours, minutes=minutes))
        typer.echo(f"simulated now: {now.isoformat()}")

    with operator_errors():
        asyncio.run(go())


@app.command()
def demo() -> None:
    """Drive an FMP and an RD transfer through simulated time and print the timeline."""
    settings = settings_or_exit()

    _run_until_stopped(run_demo(settings))


@app.command("export-topology")
def export_topology(
    out: Annotated[Path, typer.Option(help="definitions file")] = Path(
        "deploy/rabbitmq/definitions.json"
    ),
) -> None:
    """Write the RabbitMQ definitions declared in code: exchanges, quorum queues, bindings, and
    the services' user (password unset: `rabbitmqctl change_password` it) with its permissions."""
    out.parent.mkdir(parents=True, exist_ok=True)
    definitions = installation_definitions(_topology(settings_or_exit()))
    out.write_text(json.dumps(definitions, indent=2, sort_keys=True) + "\n")
    typer.echo(f"wrote {out}")


@app.command()
def asyncapi() -> None:
    """Print the AsyncAPI document of the message contract, generated from the code."""
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
    settings = settings_or_exit()
    if not settings.amqp_url:
        typer.echo("equityflow: redrive needs AMQP_URL (an in-memory broker keeps none)", err=True)
        raise typer.Exit(2)
    amqp_url = settings.amqp_url

    async def go() -> None:
        letters = await redrive_dead_letters(
            amqp_url,
            _topology(settings),
            limit=limit,
            dry_run=dry_run,
            include_poison=include_poison,
            service_users=settings.service_users,
        )
        for letter in letters:
            typer.echo(letter.line())
        sent = sum(letter.redriven for letter in letters)
        if dry_run:
            typer.echo(f"dry run: {len(letters)} dead letters looked at, none moved")
        else:
            typer.echo(f"{sent} sent back, {len(letters) - sent} left in the dead-letter queue")

    try:
        with operator_errors():
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
    with operator_errors():
        catalog = TermsCatalog(list(settings_or_exit().terms_dirs))
    if terms_id is not None:
        _known_terms(terms_id, "TERMS_ID")
    typer.echo(render(catalog, [terms_id] if terms_id else None), nl=False)


@terms_app.command("list")
def terms_list() -> None:
    """List the terms ids available (presets and extra folders)."""
    with operator_errors():
        for terms_id in TermsCatalog(list(settings_or_exit().terms_dirs)).ids():
            typer.echo(terms_id)


@terms_app.command("show")
def terms_show(
    terms_id: str,
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of YAML")] = False,
) -> None:
    """Print a terms document with the clause behind each value, as a workflow pins it.

    YAML, shaped like a company's own terms file: save it as <new id>.yaml in a folder named
    in EQUITYFLOW_TERMS_DIRS, change its id and values, and it is a company's agreement.
    """
    _known_terms(terms_id, "TERMS_ID")
    with operator_errors():
        terms = TermsCatalog(list(settings_or_exit().terms_dirs)).get(terms_id)
    document = terms.model_dump(mode="json")  # in the schema's order, as a terms file is
    if as_json:
        typer.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    typer.echo(yaml.safe_dump(document, allow_unicode=True, sort_keys=False, width=100), nl=False)


if __name__ == "__main__":
    app()
