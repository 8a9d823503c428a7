"""Plays one story on the production path and prints what each step did.

Commands are published on the broker and applied by the engine; a deadline let pass is fired by
the deadlines service once the simulated clock is moved past it. Nothing promises when a
published message takes effect (the engine applies messages in batches), so each step waits,
for a bounded time, on the fact it needs: the engine's record of its own message (a refusal
raises), and the pending deadline it lets pass.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any, TypeVar

import typer

from services.bus.runner import Bus
from services.clock import SimulatedClock
from services.demo import timeline
from services.demo.stories import Act, LetPass, Story
from services.runtime import Runtime
from services.store.queries import get_workflow
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
        self.workflow_id = uuid.uuid4()
        self.version = 0

    async def play(self, number: int) -> dict[str, Any]:
        """Every step in turn; returns the workflow as it ends."""
        echo(timeline.agreement(number, self.story.title, self.terms))
        wf: dict[str, Any] = {}
        for step in self.story.steps:
            wf = await (self._act(step) if isinstance(step, Act) else self._let_pass(step))
        echo(timeline.outcome(wf))
        return wf

    async def _act(self, act: Act) -> dict[str, Any]:
        await self._show_step(act.at, act.what)
        message_id = f"demo-{uuid.uuid4()}"
        await self.bus.send_command(
            CommandMessage(
                message_id=message_id,
                company_id=self.company,
                workflow_id=self.workflow_id,
                workflow_type="rofr",
                command=act.command,
                actor=ActorIn(party=act.party, name=act.party),  # type: ignore[arg-type]
                payload=act.payload,
            )
        )
        return await self._applied("command", message_id, f"the command {act.command}")

    async def _let_pass(self, step: LetPass) -> dict[str, Any]:
        # The previous step's message set this deadline, but read it as a fact to wait for:
        # nothing promises when a published message takes effect.
        deadline = await self._until(
            f"the deadline {step.deadline} to be pending", lambda: self._pending(step.deadline)
        )
        await self._show_step(deadline["due_at"] + timedelta(minutes=1), step.what)
        # The deadlines service fires the timer with its id as the message id.
        timer_id = str(deadline["timer_id"])
        return await self._applied("timer", timer_id, f"the timer {step.deadline} ({timer_id})")

    async def _show_step(self, at: datetime, what: str) -> None:
        await self.clock.set(at)
        echo(timeline.step(at, what, self.zone))

    async def _pending(self, name: str) -> dict[str, Any] | None:
        wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
        return next((d for d in wf["deadlines"] if d["name"] == name), None) if wf else None

    async def _applied(self, kind: str, message_id: str, what: str) -> dict[str, Any]:
        """The workflow once the engine has applied our message; any other outcome raises.

        Waits on the message's own history row, not on "a new version": under load another
        message (a timer the clock made due) may move the workflow first.
        """
        await self.bus.drain()

        async def recorded() -> dict[str, Any] | None:
            wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
            if wf is not None and any(h["message_id"] == message_id for h in wf["history"]):
                return wf
            inbox = await self.rt.pool.fetchrow(
                "SELECT outcome, refusal FROM inbox "
                "WHERE company_id = $1 AND kind = $2 AND message_id = $3",
                self.company,
                kind,
                message_id,
            )
            if inbox is not None and inbox["outcome"] != "applied":
                raise RuntimeError(f"the engine {inbox['outcome']} {what}: {inbox['refusal']}")
            return None

        wf = await self._until(f"the engine to apply {what}", recorded)
        new = [h for h in wf["history"] if h["seq"] > self.version]
        self.version = wf["version"]
        echo(timeline.happened(new, self.terms))
        return wf

    async def _until(
        self, what: str, probe: Callable[[], Awaitable[T | None]], within: float = 60.0
    ) -> T:
        """What ``probe`` finds, polled until it finds something; a clear error after ``within``."""
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while (found := await probe()) is None:
            if loop.time() > until:
                raise TimeoutError(
                    f"the demo waited {within:.0f} s for {what} on workflow {self.workflow_id}"
                    f" of {self.company}: is every service running?"
                )
            await asyncio.sleep(0.05)
        return found


def echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)
