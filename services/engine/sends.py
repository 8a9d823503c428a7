"""Commands one workflow's decision sends others (``workflows.kernel.Send``, ``SendToEach``).

Each is its own message in the outbox, on the commands exchange, written in the transaction of
the decision that sent it; the relay publishes it and the engine applies it like any command,
as its own transition, by the system party, with ``caused_by`` naming the message that caused
it (so the target's history names its cause). Its id is derived from that cause (company,
kind and id of the causing message, the send's position in the decision, and for a fan-out
the target's id): a causing message is applied once, so its sends are written once, and a
send delivered twice is the same message id twice, which the target's inbox applies once.

A ``Send`` without a workflow id starts a new workflow, whose id is derived the same way; one
to the company's one workflow of a kind (``company_one``: the share register) goes to the id
derived from the company (``services.ids.company_workflow_id``). A
``SendToEach`` finds its targets by index when the decision commits
(``services.store.fan_out``): every open workflow of the type matching the field then.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.engine.events import json_safe
from services.ids import company_workflow_id, derived_id
from services.store.canonical import dump_json
from services.store.db import Connection
from services.store.fan_out import targets
from services.store.unit_write import OutboxRow
from workflows.kernel import Send, SendToEach
from workflows.messages import CommandMessage, TimerMessage, command_routing_key

COMMANDS_EXCHANGE = "commands"  # logical name; the bus maps it to its namespaced exchange


@dataclass(frozen=True)
class Cause:
    company_id: str
    workflow_id: UUID
    workflow_type: str
    message_id: str
    kind: str  # "command" or "timer"

    @classmethod
    def of(cls, m: CommandMessage | TimerMessage) -> Cause:
        return cls(m.company_id, m.workflow_id, m.workflow_type, m.message_id, m.kind)

    def parts(self, position: int) -> tuple[str | int, ...]:
        return (self.company_id, self.kind, self.message_id, position)


@dataclass(frozen=True)
class FanOut:
    """A ``SendToEach`` whose targets are found when the batch is written."""

    cause: Cause
    position: int
    send: SendToEach


def started_workflow_id(cause: Cause, position: int) -> UUID:
    return UUID(derived_id("started-workflow", *cause.parts(position)))


def command_row(
    cause: Cause, position: int, send: Send | SendToEach, target: UUID, *, fan_out: bool = False
) -> OutboxRow:
    parts = (*cause.parts(position), str(target)) if fan_out else cause.parts(position)
    message_id = derived_id("sent-command", *parts)
    body: Mapping[str, Any] = {
        "kind": "command",
        "message_id": message_id,
        "company_id": cause.company_id,
        "workflow_id": str(target),
        "workflow_type": send.workflow_type,
        "command": send.command,
        "actor": {
            "party": "system",
            "name": cause.workflow_type,
            "reference": str(cause.workflow_id),
        },
        "payload": json_safe(dict(send.payload)),
        "caused_by": {
            "workflow_id": str(cause.workflow_id),
            "workflow_type": cause.workflow_type,
            "message_id": cause.message_id,
            "kind": cause.kind,
        },
    }
    return OutboxRow(
        cause.company_id,
        cause.workflow_id,
        COMMANDS_EXCHANGE,
        command_routing_key(send.workflow_type, send.command),
        message_id,
        dump_json(body),
    )


def plan_sends(
    cause: Cause, sends: tuple[Send | SendToEach, ...]
) -> tuple[list[OutboxRow], list[FanOut]]:
    """The outbox rows of a decision's sends, and its fan-outs to expand when writing.

    Raises ``ValueError`` for a target id that is not a UUID (a kind's bug: the message fails
    and nothing of it is written)."""
    rows: list[OutboxRow] = []
    fan_outs: list[FanOut] = []
    for position, send in enumerate(sends):
        if isinstance(send, SendToEach):
            fan_outs.append(FanOut(cause, position, send))
            continue
        if send.company_one:
            target = UUID(company_workflow_id(cause.company_id, send.workflow_type))
        elif send.workflow_id is not None:
            target = UUID(send.workflow_id)
        else:
            target = started_workflow_id(cause, position)
        rows.append(command_row(cause, position, send, target))
    return rows, fan_outs


async def expand(c: Connection, fan_outs: list[FanOut]) -> list[OutboxRow]:
    """One outbox row per target of each fan-out: its targets read by index."""
    rows: list[OutboxRow] = []
    for f in fan_outs:
        found = await targets(
            c, f.cause.company_id, f.send.workflow_type, f.send.field, f.send.value
        )
        rows += [command_row(f.cause, f.position, f.send, t, fan_out=True) for t in found]
    return rows
