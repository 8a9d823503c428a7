"""A generic harness for walking any workflow kind through dated steps, as the engine would."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.terms_catalog import TermsCatalog
from workflows import registry
from workflows.kernel import Actor, Command, Decision, Party, Refused, SetTimer, TimerFired

PT = ZoneInfo("America/Los_Angeles")
CATALOG = TermsCatalog()


def at(text: str) -> datetime:
    """A wall-clock time in the companies' zone (both are in California)."""
    when = datetime.fromisoformat(text)
    return when if when.tzinfo else when.replace(tzinfo=PT)


def iso(text: str) -> str:
    return at(text).isoformat()


def delivered(text: str, method: str = "personal") -> dict[str, str]:
    return {"method": method, "delivered_at": iso(text)}


def mailed(text: str, method: str = "certified_mail") -> dict[str, str]:
    return {"method": method, "deposited_at": iso(text)}


def types(decision: Decision) -> list[str]:
    return [e.type for e in decision.events]


def event(decision: Decision, type_: str) -> dict[str, Any]:
    found = [e.payload for e in decision.events if e.type == type_]
    assert found, f"no {type_} in {types(decision)}"
    return dict(found[0])


class KindFlow:
    """One workflow of any kind, driven command by command and timer by timer on dated steps,
    keeping state, data and pending timers as the engine does."""

    def __init__(self, workflow_type: str, terms_id: str) -> None:
        self.kind = registry.kind(workflow_type)
        self.terms = CATALOG.get(terms_id)
        self.state: str | None = None
        self.data: dict[str, Any] = {}
        self.timers: dict[str, SetTimer] = {}
        self.last: Decision | None = None

    def _apply(self, d: Decision) -> Decision:
        json.dumps(d.data)  # the engine stores it as JSON
        for e in d.events:
            json.dumps(dict(e.payload))
        self.state, self.data = d.state, dict(d.data)
        for spent in d.spent_timers:  # its deadline passed: gone, as a cancelled one is
            if (t := self.timers.get(spent.name)) and t.deadline.at == spent.due_at:
                del self.timers[spent.name]
        for name in d.cancel_timers:
            self.timers.pop(name, None)
        for t in d.set_timers:
            self.timers[t.name] = t
        if d.final:
            self.timers.clear()
        self.last = d
        return d

    def send(
        self,
        name: str,
        party: str,
        now: str,
        payload: dict[str, Any] | None = None,
        actor: str = "",
        reference: str = "",
    ) -> Decision:
        command = Command(name, Actor(Party(party), actor, reference), payload or {})
        return self._apply(self.kind.decide(self.state, self.data, command, at(now), self.terms))

    def refused(
        self,
        name: str,
        party: str,
        now: str,
        payload: dict[str, Any] | None = None,
        actor: str = "",
        reference: str = "",
    ) -> Refused:
        before = (self.state, json.dumps(self.data, sort_keys=True))
        command = Command(name, Actor(Party(party), actor, reference), payload or {})
        with pytest.raises(Refused) as caught:
            self.kind.decide(self.state, self.data, command, at(now), self.terms)
        assert (self.state, json.dumps(self.data, sort_keys=True)) == before
        return caught.value

    def deadline(self, name: str) -> datetime:
        return self.timers[name].deadline.at

    def fire(self, name: str) -> Decision:
        timer = self.timers.pop(name)
        message = TimerFired(name, timer.deadline.at)
        return self._apply(
            self.kind.decide(self.state, self.data, message, timer.deadline.at, self.terms)
        )
