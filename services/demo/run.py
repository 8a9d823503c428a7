"""Where the demo runs, and how it leaves nothing behind.

With ``DATABASE_URL`` set it runs in a database of its own on that server, dropped at the end;
without, on a temporary embedded PostgreSQL, stopped and deleted at the end. On RabbitMQ it
declares exchanges and queues under a namespace of its own and deletes them at the end.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from services.bootstrap import bootstrap, start_services
from services.bus.runner import delete_topology
from services.bus.serve import BUS_SERVICES
from services.clock import SimulatedClock
from services.demo import timeline
from services.demo.driver import StoryPlayer, echo
from services.demo.stories import STORIES
from services.embedded_postgres import temporary_embedded_postgres
from services.settings import Settings
from services.store.companies import register_company
from services.store.history import verify_chain

INTRO = (
    "equityflow demo: two proposed sales of shares under a Right of First Refusal, then a stock "
    "option granted, vested, partly exercised and left to expire after its holder resigns, each "
    "run by the production services (commands over the broker, the engine, the deadlines "
    "service) on a simulated clock that the demo moves forward. Each deadline is shown with the "
    "clause it comes from and how its date was counted."
)
AUDIT = "Each workflow's history is hash-chained; `equityflow verify` makes the same check."


async def run_demo(settings: Settings) -> None:
    run = uuid.uuid4().hex[:6]
    echo(timeline.wrap(INTRO))
    broker, deleted = (
        (
            f"exchanges and queues of its own on AMQP_URL (equityflow-demo-{run}.*)",
            "; its exchanges and queues, deleted",
        )
        if settings.amqp_url
        else ("the in-memory broker", "")
    )
    async with _database(settings, run) as (url, where, removed):
        line = f"Working on {where} and {broker}; all of it is removed at the end."
        echo(["", *timeline.wrap(line)])
        demo = settings.model_copy(
            update={"database_url": url, "simulated_clock": True, "poll_interval": 0.05}
        )
        await _play(demo, run)
    echo(["", *timeline.wrap(f"Cleaned up: {removed}{deleted}.")])


async def _play(settings: Settings, run: str) -> None:
    async with bootstrap(settings, namespace=f"equityflow-demo-{run}") as rt:
        clock = rt.clock
        assert isinstance(clock, SimulatedClock)  # the demo's settings ask for it
        try:
            # One company per agreement: the option story runs in the company of the first.
            companies = {story.terms_id: f"demo-{story.terms_id}-{run}" for story in STORIES}
            names = {story.terms_id: story.company_name for story in STORIES}
            for terms_id, company in companies.items():
                await register_company(rt.pool, company, terms_id, names[terms_id])
            for number, story in enumerate(STORIES, start=1):
                # Each story turns the clock back to its own start, so the services start after
                # it is set: a deadlines pass still holding the previous story's later time
                # would fire this story's deadlines as soon as they were set (and the engine
                # would ignore them as not yet due, leaving them fired and never applied).
                await clock.set(story.starts_at)
                async with start_services(rt, BUS_SERVICES) as running:
                    await StoryPlayer(running, story, companies[story.terms_id]).play(number)
            echo(["", timeline.RULE, "Audit", timeline.RULE])
            echo(timeline.wrap(AUDIT))
            for terms_id, company in companies.items():
                report = await verify_chain(rt.pool, company_id=company)
                echo(timeline.wrap(f"{names[terms_id]}: {report.summary()}", "    ", "  "))
        finally:
            if settings.amqp_url:  # the demo's own exchanges and queues, not the service's
                await delete_topology(settings.amqp_url, rt.topology)


@asynccontextmanager
async def _database(settings: Settings, run: str) -> AsyncIterator[tuple[str, str, str]]:
    """The demo's database URL; where it is, and how it was removed, in words."""
    if settings.database_url is None:
        async with temporary_embedded_postgres() as url:
            yield (
                url,
                "a temporary embedded PostgreSQL",
                "the embedded PostgreSQL, stopped and deleted",
            )
        return
    name = f"equityflow_demo_{run}"
    async with _scratch_database(settings.database_url, name) as url:
        where = f"{name}, a database of its own on DATABASE_URL's server,"
        yield url, where, f"the database {name}, dropped"


@asynccontextmanager
async def _scratch_database(url: str, name: str) -> AsyncIterator[str]:
    """A database of the demo's own on the same server, dropped afterwards.

    The demo runs every service, on simulated time: on a shared database it would fire other
    companies' due timers and relay their events into its own throwaway exchanges.
    """
    admin = await asyncpg.connect(url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except asyncpg.InsufficientPrivilegeError as e:
        raise PermissionError(
            f"equityflow demo runs in a database of its own and needs CREATEDB on {url}: {e}"
        ) from None
    finally:
        await admin.close()
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        admin = await asyncpg.connect(url)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()
