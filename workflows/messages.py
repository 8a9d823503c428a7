"""The public message contract: what integrations send and receive over AMQP and HTTP.

Every message names its company and a unique ``message_id``; the engine applies a message id
at most once. Commands name the acting party; a party the terms do not allow is refused.
Routing keys: commands ``command.<workflow_type>.<name>``, timers ``timer.<workflow_type>.<name>``
(or several at once in a ``TimerBundle``, ``timers.<shard>``), events
``event.<company>.<workflow_type>.<type>``. An event's key carries its company as one routing
word (``routing_word``), so RabbitMQ topic permissions can let an integration bind to its own
company's events and to no other's.

Clean bytes at the edge: ids have a fixed character set and length (``MessageId``, ``CompanyId``,
``Name``), and no string anywhere in a message — a payload's nested keys and values included —
may hold a character PostgreSQL ``text``/``jsonb`` cannot store (NUL, a lone UTF-16 surrogate).
Such a message is refused as malformed, naming the field, before anything is written.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from workflows.kernel import Actor, Command, Party, TimerFired
from workflows.text import printable_id, storable, storable_json

#: A message or event id: 1-200 printable ASCII characters, no spaces (``!`` to ``~``).
MessageId = Annotated[
    str,
    Field(min_length=1, max_length=200, json_schema_extra={"pattern": "^[!-~]+$"}),
    AfterValidator(printable_id),
]
#: A company id: letters, digits, ``_``, ``.``, ``-``; up to 100.
CompanyId = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
#: A workflow type, command, timer or event type: a lower-case identifier, as in routing keys.
NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
Name = Annotated[str, Field(min_length=1, max_length=80, pattern=NAME_PATTERN)]
#: Free text (a name, a reference): anything PostgreSQL can store, up to 1000 characters.
Text = Annotated[str, Field(max_length=1000), AfterValidator(storable)]
#: A JSON object whose every string (keys too, at any depth) PostgreSQL can store.
Payload = Annotated[dict[str, Any], AfterValidator(storable_json)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ActorIn(_Strict):
    """Who sends a command: a party of the terms. The system party only on a command one
    workflow sends another (``caused_by``), which only the engine writes."""

    party: Party
    name: Text = ""
    reference: Text = ""


class Cause(_Strict):
    """The message whose decision sent this command: its workflow and message id."""

    workflow_id: UUID
    workflow_type: Name
    message_id: MessageId
    kind: Literal["command", "timer"]


class CommandMessage(_Strict):
    """A command for one workflow. A new workflow starts with its first command."""

    kind: Literal["command"] = Field(
        default="command",
        description="may be left out over AMQP: the routing key command.<workflow_type>.<command> "
        "says the message is a command",
    )
    message_id: MessageId
    company_id: CompanyId
    workflow_id: UUID
    workflow_type: Name
    command: Name
    actor: ActorIn
    payload: Payload = Field(default_factory=dict)
    terms: str | None = Field(
        default=None,
        pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$",
        description="the terms id the sender expects: a company's workflows start under the "
        "terms it registered, and a command naming other terms is refused (terms_mismatch); "
        "a command never registers a company (unregistered_company)",
    )

    caused_by: Cause | None = Field(
        default=None,
        description="set by the engine on a command one workflow's decision sent another "
        "(sent by the system party); refused from anyone else",
    )

    @model_validator(mode="after")
    def _system_only_between_workflows(self) -> CommandMessage:
        if (self.actor.party is Party.SYSTEM) != (self.caused_by is not None):
            raise ValueError(
                "actor.party: the system party is reserved for timers and for the commands "
                "one workflow sends another (with caused_by), and only it sends those"
            )
        return self

    def to_domain(self) -> Command:
        a = self.actor
        return Command(
            self.command, Actor(a.party, a.name, a.reference), self.payload, str(self.message_id)
        )


class TimerMessage(_Strict):
    """Sent by the deadlines service when a timer row falls due; ``message_id`` = timer id."""

    kind: Literal["timer"] = "timer"
    message_id: MessageId
    company_id: CompanyId
    workflow_id: UUID
    workflow_type: Name
    timer: Name
    due_at: datetime

    def to_domain(self) -> TimerFired:
        return TimerFired(self.timer, self.due_at)


#: The most timers a bundle may carry (the deadlines service sends fewer: ``services.deadlines``).
MAX_BUNDLED_TIMERS = 1000


class TimerBundle(_Strict):
    """Timer messages the deadlines service sends together, as one AMQP message, to one engine
    shard (routing key ``timers.<shard>``). The engine applies each timer as if it had come
    alone, in the order listed; each keeps its own ``message_id`` (its timer id), and its JSON
    text is that of its ``TimerMessage``. One message for many timers spares the broker, the
    sender and the engine the cost each AMQP message carries (a publish, a confirm, a delivery,
    an acknowledgement)."""

    kind: Literal["timers"]
    timers: list[TimerMessage] = Field(min_length=1, max_length=MAX_BUNDLED_TIMERS)


class EventMessage(_Strict):
    """Published from the outbox after the transaction that produced it commits."""

    kind: Literal["event"] = "event"
    event_id: MessageId
    company_id: CompanyId
    workflow_id: UUID | None
    workflow_type: Name
    type: Name
    version: int
    occurred_at: datetime
    payload: Payload = Field(default_factory=dict)
    caused_by: Text | None = None  # the message id (or event id) that caused it


def command_routing_key(workflow_type: str, command: str) -> str:
    return f"command.{workflow_type}.{command}"


def timer_routing_key(workflow_type: str, timer: str) -> str:
    return f"timer.{workflow_type}.{timer}"


_PLAIN = re.compile(r"[A-Za-z0-9_-]")


def routing_word(text: str) -> str:
    """``text`` as exactly one word of a topic routing key, the same text always the same word.

    Topic exchanges split keys at ``.`` and treat ``*`` and ``#`` as wildcards in bindings; a
    company id may hold a ``.``. Every character outside ``[A-Za-z0-9_-]`` is percent-encoded
    (UTF-8 bytes), so company ``acme.eu`` is the word ``acme%2Eeu``: no company's word is
    another's, nor a prefix of another's followed by ``.``, and a permission ``^event\\.acme\\.``
    matches the events of ``acme`` alone.
    """
    return "".join(c if _PLAIN.fullmatch(c) else f"%{b:02X}" for c in text for b in c.encode())


def event_routing_key(company_id: str, workflow_type: str, event_type: str) -> str:
    return f"event.{routing_word(company_id)}.{workflow_type}.{event_type}"
