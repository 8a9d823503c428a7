"""What a demo story is made of: who does what when, which deadlines are let pass, what the Board
enters in its registers, and when the player looks at a grant's vesting."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.store.registers import Plan, Valuation
from workflows.grants.facts import GrantFacts

PT = ZoneInfo("America/Los_Angeles")  # both companies are in California


def pt(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=PT)


@dataclass(frozen=True)
class Known:
    """What the story has made so far, for a payload that depends on it: each kind's workflow
    id, the grant's facts as its register entry has them, and the Board's determinations."""

    ids: Mapping[str, UUID]
    grant: GrantFacts | None
    valuations: Sequence[Valuation]


Payload = Mapping[str, Any] | Callable[[Known], Mapping[str, Any]]


@dataclass(frozen=True)
class Act:
    """A party sends a command to the story's workflow of ``kind`` at a moment of simulated
    time. ``tells``: the kind of workflow this command sends a message to (the termination
    tells its grant), whose own history row the player waits for too."""

    at: datetime
    what: str
    command: str
    party: str
    payload: Payload
    kind: str = "rofr"
    reference: str = ""
    tells: str | None = None


@dataclass(frozen=True)
class LetPass:
    """Nobody acts: the clock moves just past a deadline, and the deadlines service fires it."""

    deadline: str
    what: str
    kind: str = "rofr"
    tells: str | None = None


@dataclass(frozen=True)
class Record:
    """The Board enters a determination in the valuation register, or a plan in the plan
    register: not a workflow's command, but a fact that commands read."""

    at: datetime
    what: str
    entry: Valuation | Plan


@dataclass(frozen=True)
class Vests:
    """The clock moves to a day, and the player reads the grant's vesting on it."""

    at: datetime
    what: str


Step = Act | LetPass | Record | Vests


@dataclass(frozen=True)
class Story:
    title: str
    company_name: str
    terms_id: str
    steps: tuple[Step, ...]

    @property
    def starts_at(self) -> datetime:
        """The moment of its first dated step: where the simulated clock stands as it begins."""
        return next(step.at for step in self.steps if not isinstance(step, LetPass))
