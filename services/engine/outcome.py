"""What the engine answers: an ``Outcome``, also for a message id it has already recorded."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from uuid import UUID

from services.engine.events import event_id, legacy_event_id
from services.store.db import Connection
from services.store.inbox import recorded
from workflows.messages import CommandMessage, TimerMessage

Status = Literal["applied", "refused", "duplicate", "stale"]


@dataclass(frozen=True)
class Outcome:
    status: Status
    workflow_id: UUID
    state: str | None
    version: int
    events: list[dict[str, Any]] = field(default_factory=list)
    refusal: dict[str, str] | None = None
    note: str | None = None  # why a timer message was ignored (for the log; never recorded)
    # False for a refusal of a command to a company that does not exist: answered, not kept.
    recorded: bool = True


class Held(Exception):
    """Not attempted: an earlier message of the same workflow in the batch failed, and this
    one may not overtake it. It is tried again after that one."""


async def recorded_outcome(
    connection: Connection, message: CommandMessage | TimerMessage
) -> Outcome:
    """The answer a message id got the first time, as ``duplicate``; nothing is written.

    Commands and timers are separate key spaces: a command and a timer message with one id
    are two messages, each with its own inbox row, history row and events.
    """
    company, kind, mid = message.company_id, message.kind, message.message_id
    ids = [event_id(company, mid, 0, kind), legacy_event_id(company, mid, 0, kind)]
    r = await recorded(connection, company, kind, mid, ids)
    return Outcome("duplicate", r.workflow_id, r.state, r.version, r.events, r.refusal)
