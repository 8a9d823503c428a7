"""Plays one story on the production path and prints what each step did.

Commands are published on the broker and applied by the engine; a deadline let pass is fired by
the deadlines service once the simulated clock is moved past it. Nothing promises when a
published message takes effect (the engine applies messages in batches), so each step waits,
for a bounded time, on the fact it needs: the engine's record of its own message (a refusal
raises), the pending deadline it lets pass, and the row of a message one workflow sent another
(a termination telling its grant). The Board's register entries are written as its API route
writes them (``services.store.registers``); the grant's vesting is read with the pure functions
every workflow uses (``workflows.grants.vesting``).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import typer

from services.bus.runner import Bus
from services.clock import SimulatedClock
from services.demo import timeline
from services.demo.steps import Act, Known, LetPass, Record, Story, Vests
from services.ids import share_register_id
from services.runtime import Runtime
from services.store.queries import get_workflow
from services.store.registers import Plan, Valuation, record_plan, record_valuation, valuations
from workflows.grants import words as grant_words
from workflows.grants.facts import GrantFacts
from workflows.grants.register import facts_of
from workflows.grants.vesting import exercisable, explain, vested
from workflows.messages import ActorIn, CommandMessage
from workflows.terms import Terms

T = TypeVar("T")


class StoryPlayer:
    def __init__(self, rt: Runtime, story: Story, company_id: str) -> None:
        """``rt``: a container with the bus services running (``bootstrap.start_services``)."""
        assert isinstance(rt.clock, SimulatedClock) and rt.bus is not None
        self.rt, self.story, self.company = rt, story, company_id
        self.bus: Bus = rt.bus
        self.clock: SimulatedClock = rt.clock
        self.terms: Terms = rt.catalog.get(story.terms_id)
        self.zone = timeline.zone_of(self.terms)
        self.ids: dict[str, uuid.UUID] = {}  # the story's workflow of each kind
        self.versions: dict[uuid.UUID, int] = {}

    async def play(self, number: int) -> None:
        """Every step in turn, then where each of the story's workflows ended."""
        echo(timeline.agreement(number, self.story.title, self.terms))
        for step in self.story.steps:
            if isinstance(step, Act):
                await self._act(step)
            elif isinstance(step, LetPass):
                await self._let_pass(step)
            elif isinstance(step, Record):
                await self._record(step)
            else:
                await self._vests(step)
        last = sorted(self.ids, key=lambda kind: kind == "share_register")  # the register last
        ended = [(kind, await self._workflow(kind)) for kind in last]
        echo(timeline.outcome((kind, wf) for kind, wf in ended if wf is not None))

    async def _act(self, act: Act) -> None:
        await self._show_step(act.at, act.what)
        payload = act.payload(await self._known()) if callable(act.payload) else act.payload
        message_id = f"demo-{uuid.uuid4()}"
        await self.bus.send_command(
            CommandMessage(
                message_id=message_id,
                company_id=self.company,
                workflow_id=self._id(act.kind),
                workflow_type=act.kind,
                command=act.command,
                actor=ActorIn(party=act.party, name=act.party, reference=act.reference),  # type: ignore[arg-type]
                payload=dict(payload),
            )
        )
        await self._applied(act.kind, "command", message_id, f"the command {act.command}")
        if act.tells:
            await self._told(act.tells, message_id)

    def _id(self, kind: str) -> uuid.UUID:
        """The story's workflow of ``kind``: the company's one share register at its id."""
        if kind == "share_register":
            return self.ids.setdefault(kind, uuid.UUID(share_register_id(self.company)))
        return self.ids.setdefault(kind, uuid.uuid4())

    async def _let_pass(self, step: LetPass) -> None:
        # The previous step's message set this deadline, but read it as a fact to wait for:
        # nothing promises when a published message takes effect.
        deadline = await self._until(
            f"the deadline {step.deadline} to be pending",
            lambda: self._pending(step.kind, step.deadline),
        )
        await self._show_step(deadline["due_at"] + timedelta(minutes=1), step.what)
        # The deadlines service fires the timer with its id as the message id.
        timer_id = str(deadline["timer_id"])
        what = f"the timer {step.deadline} ({timer_id})"
        await self._applied(step.kind, "timer", timer_id, what)
        if step.tells:
            await self._told(step.tells, timer_id)

    async def _record(self, step: Record) -> None:
        """An entry in the valuation or plan register, written as its API route writes it."""
        await self._show_step(step.at, step.what)
        if isinstance(step.entry, Valuation):
            await record_valuation(self.rt.pool, self.company, step.entry, by=None)
            register = "valuation"
        else:
            await record_plan(self.rt.pool, self.company, step.entry, by=None)
            register = "plan"
        said = grant_words.register_sentence(register, _fields(step.entry))
        echo(timeline.wrap(said, "    ", "  • "))

    async def _vests(self, step: Vests) -> None:
        """The grant's vesting on the step's day, by the pure functions every workflow uses."""
        await self._show_step(step.at, step.what)
        grant = (await self._known()).grant
        assert grant is not None, "a story looks at vesting once it has granted the option"
        day = step.at.astimezone(ZoneInfo(self.zone)).date()
        said = grant_words.vested_sentence(
            vested(grant, day), grant.shares, exercisable(grant, day)
        )
        echo([*timeline.wrap(said, "    ", "  • "), *timeline.wrap(explain(grant, day), "      ")])

    async def _show_step(self, at: datetime, what: str) -> None:
        await self.clock.set(at)
        echo(timeline.step(at, what, self.zone))

    async def _workflow(self, kind: str) -> dict[str, Any] | None:
        return await get_workflow(self.rt.pool, self.company, self.ids[kind])

    async def _pending(self, kind: str, name: str) -> dict[str, Any] | None:
        wf = await self._workflow(kind)
        return next((d for d in wf["deadlines"] if d["name"] == name), None) if wf else None

    async def _known(self) -> Known:
        grant: GrantFacts | None = None
        if "grant" in self.ids:
            wf = await self._workflow("grant")
            if wf is not None:
                data = wf["data"]
                grant = facts_of(str(self.ids["grant"]), data, state=wf["state"],
                                 exercised=int(data.get("exercised") or 0))  # fmt: skip
        return Known(self.ids, grant, await valuations(self.rt.pool, self.company))

    async def _applied(self, kind: str, inbox_kind: str, message_id: str, what: str) -> None:
        """Wait until the engine has applied our message, and print what it did; any other
        outcome raises.

        Waits on the message's own history row, not on "a new version": under load another
        message (a timer the clock made due) may move the workflow first.
        """
        await self.bus.drain()

        async def recorded() -> dict[str, Any] | None:
            wf = await self._workflow(kind)
            if wf is not None and any(h["message_id"] == message_id for h in wf["history"]):
                return wf
            inbox = await self.rt.pool.fetchrow(
                "SELECT outcome, refusal FROM inbox "
                "WHERE company_id = $1 AND kind = $2 AND message_id = $3",
                self.company,
                inbox_kind,
                message_id,
            )
            if inbox is not None and inbox["outcome"] != "applied":
                raise RuntimeError(f"the engine {inbox['outcome']} {what}: {inbox['refusal']}")
            return None

        self._print_new(kind, await self._until(f"the engine to apply {what}", recorded))

    async def _told(self, kind: str, cause_id: str) -> None:
        """Wait for the story's workflow of ``kind`` to apply the message our message sent it
        (its history row names our message as its cause), and print what it did."""

        async def recorded() -> dict[str, Any] | None:
            wf = await self._workflow(kind)
            caused = [(h["message"] or {}).get("caused_by") or {} for h in (wf or {}).get(
                "history", [])]  # fmt: skip
            return wf if any(c.get("message_id") == cause_id for c in caused) else None

        self._id(kind)
        what = f"the {kind} to apply the message {cause_id} sent it"
        wf = await self._until(what, recorded)
        if wf["workflow_id"] not in self.versions:
            # A workflow of the company's that an earlier story kept (the share register): only
            # what our message caused is this story's.
            mine = [
                h
                for h in wf["history"]
                if ((h["message"] or {}).get("caused_by") or {}).get("message_id") == cause_id
            ]
            self.versions[wf["workflow_id"]] = wf["version"]
            echo(timeline.happened(mine, self.terms, kind))
            return
        self._print_new(kind, wf)

    def _print_new(self, kind: str, wf: Mapping[str, Any]) -> None:
        seen = self.versions.get(wf["workflow_id"], 0)
        new = [h for h in wf["history"] if h["seq"] > seen]
        self.versions[wf["workflow_id"]] = wf["version"]
        echo(timeline.happened(new, self.terms, kind))

    async def _until(
        self, what: str, probe: Callable[[], Awaitable[T | None]], within: float = 60.0
    ) -> T:
        """What ``probe`` finds, polled until it finds something; a clear error after ``within``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while (found := await probe()) is None:
            if loop.time() > until:
                raise TimeoutError(
                    f"the demo waited {within:.0f} s for {what} of {self.company} (workflows "
                    f"{', '.join(f'{k} {v}' for k, v in self.ids.items())}): is every service "
                    "running?"
                )
            await asyncio.sleep(0.05)
        return found


def echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)


def _fields(entry: Valuation | Plan) -> dict[str, Any]:
    """A register entry's fields as words fill them: dates and amounts as written."""
    return {k: None if v is None else f"{v:f}" if isinstance(v, Decimal) else str(v)
            for k, v in asdict(entry).items()}  # fmt: skip
