"""The contract between the pure workflows and the services that run them.

A workflow kind is a module exposing ``KIND`` and ``decide``. ``decide`` takes the persisted
state of one workflow, one incoming message (a command or a fired timer), the time the message
is applied at, and the workflow's pinned terms; it returns a ``Decision`` or raises ``Refused``.
It never does I/O and never reads the clock, so the engine can run it inside one database
transaction and tests can run it with a date and a dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from dataclasses import field as dataclass_field
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from pydantic import BaseModel

from workflows.calendar import Deadline


class Party(StrEnum):
    """Who may act. The terms say which party may send which command."""

    OWNER = "owner"
    COMPANY = "company"
    ASSIGNEE = "assignee"
    BOARD = "board"
    ESCROW_AGENT = "escrow_agent"
    TRANSFEREE = "transferee"
    SYSTEM = "system"  # timers, and commands one workflow sends another; never from outside


@dataclass(frozen=True)
class Actor:
    party: Party
    name: str = ""
    reference: str = ""  # e.g. the Board resolution or officer title behind a company act


@dataclass(frozen=True)
class Command:
    """An imperative request to a workflow (``deliver_disposition_notice``, ``exercise_rofr``)."""

    name: str
    actor: Actor
    payload: Mapping[str, Any] = field(default_factory=dict)
    message_id: str = ""  # the message that carried it, to name the act in the record


@dataclass(frozen=True)
class TimerFired:
    """A deadline set by an earlier decision has passed; the engine delivers it like a command."""

    name: str
    due_at: datetime


Message = Command | TimerFired


@dataclass(frozen=True)
class Event:
    """Something that happened, in the past tense (``election_window_opened``)."""

    type: str
    payload: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SetTimer:
    """A legal deadline: stored as a row with its party, clause and derivation.

    ``name`` is unique within a workflow: setting it again replaces the pending one.
    ``party`` is who must act by ``deadline.at``; ``action`` says what they must do.
    """

    name: str
    deadline: Deadline
    party: Party
    action: str


@dataclass(frozen=True)
class Send:
    """A command this decision sends to another workflow of the same company.

    It goes through the outbox as its own message (its id derived from the message that caused
    it) and is applied there as its own transition, by the system party, whose history names
    its cause. ``workflow_id`` None starts a new workflow, its id derived from the cause too.
    ``company_one``: the company's one workflow of ``workflow_type`` (the share register), at
    the id the engine derives from the company, which no workflow knows.
    """

    workflow_type: str
    command: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    workflow_id: str | None = None
    company_one: bool = False


#: The fields a fan-out may match on: each is indexed (``services/store/migrations``).
FanOutField = Literal["holder", "optionee", "grant"]


@dataclass(frozen=True)
class SendToEach:
    """The same command to every open workflow of ``workflow_type`` of the company whose
    ``data[field]`` is ``value`` ("every open ROFR of holder H"): found by index when the
    decision commits, one message each, each id derived from the cause and the target."""

    workflow_type: str
    field: FanOutField
    value: str
    command: str
    payload: Mapping[str, Any] = dataclass_field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    state: str
    data: Mapping[str, Any]
    events: tuple[Event, ...] = ()
    set_timers: tuple[SetTimer, ...] = ()
    cancel_timers: tuple[str, ...] = ()
    final: bool = False
    transition: str = ""  # the chart transition taken; "" when nothing moved
    send: tuple[Send | SendToEach, ...] = ()
    #: Deadlines pending before this message that passed in its run and took effect in their
    #: place: the timer a timer message is for, and any the run reached first (a later timer's
    #: message, or an act effective after them). Spent, not cancelled: their time ran out.
    spent_timers: tuple[TimerFired, ...] = ()


class Refused(Exception):
    """A command the rules do not allow. Changes nothing; the reason cites the rule."""

    def __init__(self, rule: str, reason: str, code: str = "refused") -> None:
        super().__init__(f"{rule}: {reason}")
        self.rule = rule
        self.reason = reason
        self.code = code


#: Refusal codes that mean "this message is malformed" (whatever the state): HTTP 422.
MALFORMED = frozenset(
    {
        "invalid_payload",  # a payload that breaks its command's model
        "unknown_command",
        "malformed",  # a payload shape no rule anticipated
        "unknown_terms",
        "unknown_workflow_type",
    }
)


#: Refusal codes answered as not found: the workflow, or the company, is not there to act on.
NOT_FOUND = frozenset({"not_found", "unregistered_company"})


def refusal_status(code: str) -> int:
    """The HTTP status of a refusal, and the ``status`` of its ``command_refused`` event.

    422: the command is malformed and would be refused in any state; 404: no such workflow, or
    a company nobody registered (nothing of either is revealed); 409: a rule of the terms
    refuses it in this workflow's state (the refusal cites the clause).
    """
    return 404 if code in NOT_FOUND else 422 if code in MALFORMED else 409


class Commands(Protocol):
    """A kind's command table (``workflows.kit.commands.CommandTable``)."""

    @property
    def names(self) -> tuple[str, ...]: ...

    def payloads(self) -> Mapping[str, type[BaseModel]]: ...


class Diagram(Protocol):
    """A kind's chart (``workflows.kit.chart.Chart``), drawn."""

    def mermaid(self, current: str | None = None) -> str: ...


class WorkflowKind(Protocol):
    KIND: str

    @property
    def CHART(self) -> Diagram: ...  # a module constant of the kind

    @property
    def COMMANDS(self) -> Commands: ...  # a module constant of the kind

    def decide(
        self,
        state: str | None,
        data: Mapping[str, Any],
        message: Message,
        now: datetime,
        terms: Any,
    ) -> Decision: ...
