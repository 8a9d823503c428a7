"""The public message contract: what integrations send and receive over AMQP and HTTP.

Every message names its company and a unique ``message_id``; the engine applies a message id
at most once. Commands name the acting party; a party the terms do not allow is refused.
Routing keys: commands ``command.<workflow_type>.<name>``, timers ``timer.<workflow_type>.<name>``,
events ``event.<workflow_type>.<type>``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from workflows.kernel import Actor, Command, Party, TimerFired


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorIn(_Strict):
    party: Party
    name: str = ""
    reference: str = ""

    @field_validator("party")
    @classmethod
    def _not_system(cls, v: Party) -> Party:
        if v is Party.SYSTEM:
            raise ValueError("the system party is reserved for timers")
        return v


class CommandMessage(_Strict):
    """A command for one workflow. A new workflow starts with its first command."""

    kind: Literal["command"] = "command"
    message_id: str = Field(min_length=1, max_length=200)
    company_id: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    workflow_id: UUID
    workflow_type: str = Field(min_length=1, max_length=50)
    command: str = Field(min_length=1, max_length=80, pattern=r"^[a-z][a-z0-9_]*$")
    actor: ActorIn
    payload: dict[str, Any] = Field(default_factory=dict)
    terms: str | None = Field(
        default=None,
        description="the terms id the sender expects: a company's workflows start under the "
        "terms it registered, and a command naming other terms is refused (terms_mismatch); "
        "a command never registers a company (unregistered_company)",
    )

    def to_domain(self) -> Command:
        a = self.actor
        return Command(self.command, Actor(a.party, a.name, a.reference), self.payload)


class TimerMessage(_Strict):
    """Sent by the deadlines service when a timer row falls due; ``message_id`` = timer id."""

    kind: Literal["timer"] = "timer"
    message_id: str
    company_id: str
    workflow_id: UUID
    workflow_type: str
    timer: str
    due_at: datetime

    def to_domain(self) -> TimerFired:
        return TimerFired(self.timer, self.due_at)


class EventMessage(_Strict):
    """Published from the outbox after the transaction that produced it commits."""

    kind: Literal["event"] = "event"
    event_id: str
    company_id: str
    workflow_id: UUID | None
    workflow_type: str
    type: str
    version: int
    occurred_at: datetime
    payload: dict[str, Any] = Field(default_factory=dict)
    caused_by: str | None = None


def command_routing_key(workflow_type: str, command: str) -> str:
    return f"command.{workflow_type}.{command}"


def timer_routing_key(workflow_type: str, timer: str) -> str:
    return f"timer.{workflow_type}.{timer}"


def event_routing_key(workflow_type: str, event_type: str) -> str:
    return f"event.{workflow_type}.{event_type}"
