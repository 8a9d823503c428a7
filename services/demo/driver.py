"""Plays one story on the production path and prints what each step did.

Commands are published on the broker and applied by the engine; a deadline let pass is fired by
the deadlines service once the simulated clock is moved past it. Each step waits until the
workflow has moved (or the command was refused) before the next one.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

import typer

from services.bus.runner import Bus
from services.clock import SimulatedClock
from services.demo import timeline
from services.demo.stories import Act, LetPass, Story
from services.runtime import Runtime
from services.store.queries import get_workflow
from workflows.messages import ActorIn, CommandMessage
from workflows.terms import Terms


class StoryPlayer:
    def __init__(self, rt: Runtime, bus: Bus, story: Story, company_id: str) -> None:
        assert isinstance(rt.clock, SimulatedClock)
        self.rt, self.bus, self.story, self.company = rt, bus, story, company_id
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
        return await self._moved(message_id)

    async def _let_pass(self, step: LetPass) -> dict[str, Any]:
        wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
        assert wf is not None
        due = next(d["due_at"] for d in wf["deadlines"] if d["name"] == step.deadline)
        await self._show_step(due + timedelta(minutes=1), step.what)
        return await self._moved(None)

    async def _show_step(self, at: datetime, what: str) -> None:
        await self.clock.set(at)
        echo(timeline.step(at, what, self.zone))

    async def _moved(self, message_id: str | None, within: float = 60.0) -> dict[str, Any]:
        """The workflow once it has a new version; a refusal of our command raises."""
        await self.bus.drain()
        loop = asyncio.get_running_loop()
        until = loop.time() + within
        while True:
            wf = await get_workflow(self.rt.pool, self.company, self.workflow_id)
            if wf is not None and wf["version"] > self.version:
                new = [h for h in wf["history"] if h["seq"] > self.version]
                self.version = wf["version"]
                echo(timeline.happened(new, self.terms))
                return wf
            refusal = message_id and await self.rt.pool.fetchval(
                "SELECT refusal FROM inbox WHERE company_id = $1 AND message_id = $2 "
                "AND outcome = 'refused'",
                self.company,
                message_id,
            )
            if refusal:
                raise RuntimeError(f"the demo's command was refused: {refusal}")
            if loop.time() > until:
                raise RuntimeError("the workflow did not move: is every service running?")
            await asyncio.sleep(0.05)


def echo(lines: list[str]) -> None:
    for line in lines:
        typer.echo(line)
