"""The outcome of one rule: the chart event it sends (the chart picks the transition by its
guards) and what it records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from workflows.kernel import Event, Send, SendToEach, SetTimer


@dataclass
class Step:
    transition: str
    events: list[Event] = field(default_factory=list)
    set_timers: list[SetTimer] = field(default_factory=list)
    cancel_timers: list[str] = field(default_factory=list)
    send: list[Send | SendToEach] = field(default_factory=list)  # to other workflows

    def event(self, type_: str, **payload: Any) -> None:
        self.events.append(Event(type_, payload))
