"""``equityflow integrations``: which RabbitMQ user acts for which company, as which parties.

Registering an integration is half the work: RabbitMQ must also know the user and what it may
touch. ``add`` prints the ``rabbitmqctl`` commands for that, to run where RabbitMQ is
administered (equityflow holds no broker administrator's credentials, and the password is the
operator's to choose and hand over).

The commands import ``services.cli``'s helpers when they run: ``services.cli`` imports this
module to add it, and may be running as ``__main__``.
"""

from __future__ import annotations

import asyncio
import re
import shlex
from typing import Annotated

import typer

from services.bootstrap import bootstrap
from services.bus.auth import amqp_user
from services.bus.permissions import SERVICES_USER, company_events_binding, integration_permissions
from services.bus.topology import Topology
from services.cli_support import operator_errors, settings_or_exit
from services.integrations import (
    Integration,
    add_integration,
    list_integrations,
    remove_integration,
)
from workflows.kernel import Party

integrations_app = typer.Typer(
    help="Integrations over AMQP: a RabbitMQ user per integration, bound to one company.",
    no_args_is_help=True,
)

_COMPANY = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_USER = re.compile(r"[^\s\x00-\x1f\x7f]{1,200}")
_PARTIES = [p.value for p in Party if p is not Party.SYSTEM]


def _checked(user: str, company: str, parties: list[str]) -> tuple[str, ...]:
    if not _USER.fullmatch(user):
        raise typer.BadParameter(
            "1 to 200 characters, no spaces or control characters", param_hint="USER"
        )
    if not _COMPANY.fullmatch(company):
        raise typer.BadParameter(
            "use 1 to 100 letters, digits, '_', '.' or '-'", param_hint="--company"
        )
    unknown = [p for p in parties if p not in _PARTIES]
    if unknown or not parties:
        raise typer.BadParameter(
            f"{', '.join(unknown) or 'none given'}; the parties are {', '.join(_PARTIES)}",
            param_hint="--party",
        )
    return tuple(dict.fromkeys(parties))


@integrations_app.command("add")
def add(
    user: Annotated[str, typer.Argument(help="the integration's RabbitMQ user")],
    company: Annotated[str, typer.Option(help="the one company it acts for")],
    party: Annotated[list[str], typer.Option(help="a party it may act as (repeat for more)")],
) -> None:
    """Register an integration's RabbitMQ user, and print the rabbitmqctl commands it needs."""
    parties = _checked(user, company, party)
    settings = settings_or_exit()
    services = {SERVICES_USER, *settings.service_users}
    if settings.amqp_url:
        services.add(amqp_user(settings.amqp_url))
    if user in services:
        # A services' user is trusted for every company: never an integration's.
        raise typer.BadParameter(
            f"{user!r} is a user of the equityflow services ({', '.join(sorted(services))}); "
            "give the integration a RabbitMQ user of its own",
            param_hint="USER",
        )

    async def go() -> bool:
        async with bootstrap(settings) as rt:
            return await add_integration(rt.pool, Integration(user, company, parties))

    with operator_errors():
        new = asyncio.run(go())
    verb = "registered" if new else "re-granted"
    typer.echo(f"{verb} {user}: company {company}, as {', '.join(parties)}")
    topology = Topology(settings.namespace)
    grants = integration_permissions(topology, user, company)
    typer.echo("\nOn RabbitMQ (choose the password; give it to the integration only):")
    typer.echo(f"  rabbitmqctl add_user {shlex.quote(user)} '<password>'")
    for line in grants.rabbitmqctl():
        typer.echo(f"  {line}")
    typer.echo(
        f"\nIt publishes commands to {topology.commands_exchange.name} (routing key "
        f"command.<workflow_type>.<command>) with the AMQP property user_id={user}, and reads "
        f"its company's events from a queue of its own bound to {topology.events_exchange.name} "
        f"with {company_events_binding(company)}."
    )


@integrations_app.command("list")
def list_() -> None:
    """List the registered integrations: user, company, parties."""

    async def go() -> None:
        async with bootstrap(settings_or_exit()) as rt:
            for i in await list_integrations(rt.pool):
                typer.echo(f"{i.rabbitmq_user}\t{i.company_id}\t{','.join(i.parties)}")

    with operator_errors():
        asyncio.run(go())


@integrations_app.command("remove")
def remove(user: Annotated[str, typer.Argument(help="the integration's RabbitMQ user")]) -> None:
    """Unregister an integration: the engine refuses its messages from now on."""

    async def go() -> bool:
        async with bootstrap(settings_or_exit()) as rt:
            return await remove_integration(rt.pool, user)

    with operator_errors():
        removed = asyncio.run(go())
    if not removed:
        typer.echo(
            f"equityflow: no integration {user!r} (see `equityflow integrations list`)", err=True
        )
        raise typer.Exit(2)
    typer.echo(f"removed {user}; on RabbitMQ: rabbitmqctl delete_user {shlex.quote(user)}")
