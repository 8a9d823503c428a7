"""Messages no consumer can ever handle: parsed once, and if unusable, dead-lettered with why.

A malformed or schema-invalid message is not retried (it would fail the same way forever) and
never reaches the engine: the consumer republishes the original body and headers to the
dead-letter exchange with headers naming the error, the queue it came from and its original
routing key, then acks it. If that publish fails (RabbitMQ cannot route it: nothing is bound to
the dead-letter exchange), the consumer nacks the message instead, so it is never dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from services.bus.publisher import Publisher
from services.bus.topology import (
    ERROR_HEADER,
    ROUTING_KEY_HEADER,
    SOURCE_QUEUE_HEADER,
    Topology,
)
from workflows.messages import CommandMessage, EventMessage, TimerBundle, TimerMessage
from workflows.registry import kind as workflow_kind

MAX_REASON = 1000

EngineMessage = Annotated[CommandMessage | TimerMessage | TimerBundle, Field(discriminator="kind")]
_ENGINE = TypeAdapter[CommandMessage | TimerMessage | TimerBundle](EngineMessage)
# The routing key's first word says what a message is, so its body may leave ``kind`` out.
_BY_ROUTING_KEY: dict[
    str, TypeAdapter[CommandMessage] | TypeAdapter[TimerMessage] | TypeAdapter[TimerBundle]
] = {
    "command": TypeAdapter(CommandMessage),
    "timer": TypeAdapter(TimerMessage),
    "timers": TypeAdapter(TimerBundle),
}
_EVENT = TypeAdapter(EventMessage)


class PoisonMessage(ValueError):
    """The message can never be processed; ``str()`` is the reason recorded with it."""


def describe(error: ValidationError) -> str:
    parts = []
    for e in error.errors(include_url=False):
        where = ".".join(str(p) for p in e["loc"])
        parts.append(f"{where}: {e['msg']}" if where else e["msg"])
    return "; ".join(parts)[:MAX_REASON]


def _known_workflow_type(workflow_type: str) -> bool:
    try:
        workflow_kind(workflow_type)
    except (KeyError, LookupError, ValueError):
        return False
    return True


def parse_engine_message(
    body: bytes, routing_key: str = ""
) -> CommandMessage | TimerMessage | TimerBundle:
    """A command, a timer message or a bundle of timers, for workflow types that exist (a
    bundle with one timer of an unknown type is refused whole).

    Sent as ``command.<workflow_type>.<command>`` a body is a command (its ``kind``, if given,
    must be ``command``), as ``timer.…`` a timer message, as ``timers.<shard>`` a bundle; under
    any other routing key the body's ``kind`` tells them apart.
    """
    adapter = _BY_ROUTING_KEY.get(routing_key.split(".", 1)[0], _ENGINE)
    try:
        message = adapter.validate_json(body)
    except ValidationError as e:
        raise PoisonMessage(describe(e)) from None
    timers = message.timers if isinstance(message, TimerBundle) else (message,)
    for n, timer in enumerate(timers):
        if not _known_workflow_type(timer.workflow_type):
            where = f"timers.{n}." if isinstance(message, TimerBundle) else ""
            raise PoisonMessage(
                f"{where}workflow_type: unknown workflow type {timer.workflow_type!r}"
            )
    return message


def parse_event_message(body: bytes) -> EventMessage:
    try:
        return _EVENT.validate_json(body)
    except ValidationError as e:
        raise PoisonMessage(describe(e)) from None


# RabbitMQ's record of earlier deliveries and dead-letterings: about the last trip, not the message.
_DELIVERY_HEADERS = ("x-delivery-count", "x-death", "x-first-death", "x-last-death")


async def dead_letter(
    publisher: Publisher,
    topology: Topology,
    *,
    body: bytes,
    routing_key: str,
    message_id: str | None,
    source_queue: str,
    reason: str,
    headers: Mapping[str, Any] | None = None,
) -> None:
    """Publish the message to the dead-letter exchange with why, from where, and its headers.

    ``headers`` are those the message arrived with. They travel on, so a message that redrive
    sent back keeps its count of rounds (``x-equityflow-redriven``) and its original routing key
    (``x-equityflow-routing-key``: a message sent back arrives with its queue's name as routing
    key).
    """
    carried = {
        k: _text(v)
        for k, v in (headers or {}).items()
        if not k.startswith(_DELIVERY_HEADERS) and isinstance(v, str | bytes | int)
    }
    original = carried.get(ROUTING_KEY_HEADER) or routing_key
    await publisher.publish(
        body,
        exchange=topology.dead_letter_exchange,
        routing_key=original or "unrouted",
        message_id=message_id or "",
        headers={
            **carried,
            ERROR_HEADER: reason[:MAX_REASON],
            SOURCE_QUEUE_HEADER: source_queue,
            ROUTING_KEY_HEADER: original,
        },
    )


def _text(value: str | bytes | int) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)
