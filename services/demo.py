"""``equityflow demo``: an FMP and a Ray Dream transfer driven through simulated time.

Everything goes the production path: commands are published on the broker, the engine applies
them, the deadlines service fires timers when the simulated clock passes them. The demo prints a
timeline with each deadline's derivation, then verifies the hash chain of both histories.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import asyncpg
import typer

from services.bus.runner import Bus, delete_topology
from services.bus.serve import BUS_SERVICES, bus_services
from services.clock import SimulatedClock
from services.runtime import Runtime, open_runtime, resolve_database_url
from services.settings import Settings
from services.store.companies import register_company
from services.store.history import verify_chain
from services.store.queries import get_workflow
from workflows.messages import ActorIn, CommandMessage

PT = ZoneInfo("America/Los_Angeles")


def pt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PT)


def _fmt(when: datetime | str) -> str:
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    local = moment.astimezone(PT)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


class Scenario:
    """One workflow of one company, driven step by step, printing what each step did."""

    def __init__(self, rt: Runtime, bus: Bus, company: str, title: str) -> None:
        self.rt, self.bus, self.company, self.title = rt, bus, company, title
        self.workflow_id = uuid.uuid4()
        self.version = 0
        assert isinstance(rt.clock, SimulatedClock)
        self.clock: SimulatedClock = rt.clock

    async def command(
        self, at: datetime, label: str, command: str, party: str, payload: dict[str, Any]
    ) -> dict[str, Any]:
        await self.clock.set(at)
        typer.echo(f"\n{_fmt(at)}  {label}")
        await self.bus.send_command(
            CommandMessage(
                message_id=f"demo-{uuid.uuid4()}",
                company_id=self.company,
                workflow_id=self.workflow_id,
                workflow_type="rofr",
                command=command,
                actor=ActorIn(party=party, name=party),  # type: ignore[arg-type]
                payload=payload,
            )
        )
        return await self._settled()

    async def wait_past(self, deadline_name: str, label: str) -> dict[str, Any]:
        """Advance the simulated clock just past a pending deadline; the timer does the rest."""
        wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
        assert wf is not None
        due = next(d["due_at"] for d in wf["deadlines"] if d["name"] == deadline_name)
        at = due + timedelta(minutes=1)
        await self.clock.set(at)
        typer.echo(f"\n{_fmt(at)}  {label} (simulated clock advanced; the deadlines service fires)")
        return await self._settled()

    async def _settled(self, within: float = 15.0) -> dict[str, Any]:
        await self.bus.drain()
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while True:
            wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
            if wf is not None and wf["version"] > self.version:
                return self._show(wf)
            refused = await self.rt.pool.fetchrow(
                "SELECT refusal FROM inbox WHERE company_id = $1 AND workflow_id = $2 "
                "AND outcome = 'refused' ORDER BY received_at DESC LIMIT 1",
                self.company,
                self.workflow_id,
            )
            if refused is not None and loop.time() > until - within + 2:
                raise RuntimeError(f"refused: {refused['refusal']}")
            if loop.time() > until:
                raise RuntimeError("the workflow did not move: is every service running?")
            await asyncio.sleep(0.05)

    def _show(self, wf: dict[str, Any]) -> dict[str, Any]:
        new = [h for h in wf["history"] if h["seq"] > self.version]
        self.version = wf["version"]
        for h in new:
            kinds = [e["type"] for e in h["events"] if e["type"] not in {"deadline_set"}]
            typer.echo(
                f"    → {h['state_from'] or '(new)'} ⟶ {h['state_to']}   [{', '.join(kinds)}]"
            )
        for d in wf["deadlines"]:
            typer.echo(f"    ⏰ {d['name']}: {d['party']} — {d['action']}")
            typer.echo(f"       by {_fmt(d['due_at'])}  ·  {d['derivation']}")
        if wf["final"]:
            typer.echo(f"    ■ final state: {wf['state']}")
        return wf


async def _fmp(rt: Runtime, bus: Bus, company: str) -> Scenario:
    s = Scenario(rt, bus, company, "FMP")
    typer.echo("\n═══ FMP 1998 NSO — Right of First Refusal, FMP §6(d); no election ═══")
    await s.command(
        pt("2026-03-02T09:00"),
        "Owner mails a Disposition Notice by certified mail (effective 72 h after deposit)",
        "deliver_disposition_notice",
        "owner",
        {
            "holder": "alice",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "counsel's letter: no breach of §6(b), (c), (g), (h)",
            "notice": {
                "method": "certified_mail",
                "deposited_at": pt("2026-03-02T09:00").isoformat(),
            },
        },
    )
    await s.wait_past("election_deadline", "The Company's 30-day election window ends unexercised")
    await s.wait_past("sale_window_end", "The owner's 30-day sale window ends with no sale")
    return s


async def _rd(rt: Runtime, bus: Bus, company: str) -> Scenario:
    s = Scenario(rt, bus, company, "RD")
    typer.echo(
        "\n═══ Ray Dream 1992 ISO — Right of First Refusal, RD ISO ¶11; sale to the transferee ═══"
    )
    await s.command(
        pt("2026-03-02T11:00"),
        "Optionee and transferee deliver a signed Transfer Notice",
        "deliver_transfer_notice",
        "owner",
        {
            "holder": "carol",
            "shares": 500,
            "transferee": {"name": "Dan Transferee", "address": "1 Main St, Palo Alto"},
            "consideration": {"form": "cash", "price_per_share": "4.00"},
            "bona_fide_evidence": "signed purchase agreement",
            "signed_by": [
                {"party": "owner", "name": "Carol Optionee"},
                {"party": "transferee", "name": "Dan Transferee"},
            ],
            "binding_commitment": True,
            "notice": {"method": "personal", "delivered_at": pt("2026-03-02T11:00").isoformat()},
        },
    )
    await s.wait_past("election_deadline", "The Company's 30-day exercise period ends unexercised")
    await s.command(
        pt("2026-05-01T12:00"),
        "The optionee reports the sale to the transferee, on the notice's terms",
        "report_third_party_sale",
        "owner",
        {
            "buyer": {"name": "Dan Transferee"},
            "shares": 500,
            "sold_at": pt("2026-05-01T10:00").isoformat(),
            "price_per_share": "4.00",
            "transferee_agreed_in_writing": True,
        },
    )
    await s.command(
        pt("2026-05-04T09:00"),
        "The Company demands assurances that the transfer happened as described",
        "demand_assurances",
        "company",
        {"assurances": "executed stock power and wire confirmation"},
    )
    await s.command(
        pt("2026-05-05T09:00"),
        "The optionee provides them",
        "provide_assurances",
        "owner",
        {"assurances": "stock power + wire ref 4711"},
    )
    await s.command(
        pt("2026-05-06T09:00"),
        "The Company approves; the books record the transfer (buyer still subject, ¶11(f))",
        "approve_transfer",
        "company",
        {},
    )
    return s


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


async def run_demo(settings: Settings) -> None:
    if settings.database_url is None:
        settings = settings.model_copy(update={"data_dir": settings.data_dir / "demo"})
    run = uuid.uuid4().hex[:6]
    server = await resolve_database_url(settings)
    async with _scratch_database(server, f"equityflow_demo_{run}") as url:
        demo = settings.model_copy(
            update={"database_url": url, "simulated_clock": True, "poll_interval": 0.05}
        )
        await _run(demo, run)


async def _run(settings: Settings, run: str) -> None:
    async with open_runtime(settings, namespace=f"equityflow-demo-{run}") as rt:
        fmp, rd = f"demo-fmp-{run}", f"demo-rd-{run}"
        await register_company(rt.pool, fmp, "fmp-1998-nso", "Future Media Productions, Inc.")
        await register_company(rt.pool, rd, "raydream-1992-iso", "Ray Dream, Inc.")
        async with bus_services(rt, BUS_SERVICES) as bus:
            scenarios = [await _fmp(rt, bus, fmp), await _rd(rt, bus, rd)]
        typer.echo("\n═══ Audit ═══")
        for s in scenarios:
            report = await verify_chain(rt.pool, company_id=s.company)
            typer.echo(f"{s.title} {s.workflow_id}: {report.summary()}")
        if settings.amqp_url:  # the demo's own exchanges and queues, not the service's
            await delete_topology(settings.amqp_url, rt.topology)
