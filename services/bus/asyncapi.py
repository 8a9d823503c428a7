"""The AsyncAPI document of the message contract, generated from the code that runs it."""

from __future__ import annotations

from typing import Any

from faststream.specification import AsyncAPI

from services.bus.auth import Gate
from services.bus.consumers import engine_consumer, notices_consumer
from services.bus.runner import build_broker
from services.bus.topology import ERROR_HEADER, SOURCE_QUEUE_HEADER, Topology
from workflows import registry
from workflows.command_schemas import command_envelopes
from workflows.messages import (
    CommandMessage,
    EventMessage,
    TimerBundle,
    TimerMessage,
    command_routing_key,
)


class _Unused:
    async def publish(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("documentation only")


def asyncapi_document(topology: Topology | None = None) -> dict[str, Any]:
    topology = topology or Topology()
    broker = build_broker(None, topology)
    for install in (
        engine_consumer(None, None, None),  # type: ignore[arg-type]  # never run
        notices_consumer(None, None),  # type: ignore[arg-type]
    ):
        install(broker, topology, _Unused(), Gate())
    documented = (
        (topology.commands_exchange, "command.<workflow_type>.<command>", CommandMessage,
         "Send a command to a workflow; message_id makes it idempotent. Publish as your "
         "integration's RabbitMQ user with the user_id property set to it: the engine takes "
         "a command only for that user's company, as one of its parties; any other is "
         "dead-lettered with the reason."),
        (topology.commands_exchange, "timer.<workflow_type>.<timer>", TimerMessage,
         "Sent by the deadlines service when a timer falls due (message_id = timer id); "
         "only the services' RabbitMQ users may publish these."),
        (topology.commands_exchange, "timers.<shard>", TimerBundle,
         "Sent by the deadlines service: the timers it fired together for one engine shard "
         "(the workflows whose shard, the CRC-32 of the workflow id modulo the shards, is "
         "<shard>), in due order, each exactly the TimerMessage it stands for. The engine "
         "applies each as if sent alone; one that can never be applied is dead-lettered alone, "
         "as a TimerMessage on timer.<workflow_type>.<timer>.<shard>. Only the services' "
         "RabbitMQ users may publish these."),
        (topology.events_exchange, "event.<company>.<workflow_type>.<type>", EventMessage,
         "Published from the outbox after the transaction that produced it commits; "
         "includes deadline_set, deadline_cancelled, deadline_passed (a deadline that took "
         "effect in another message's run, its own timer message then stale), command_refused "
         "and action_required. "
         "<company> is the company id with '.' written %2E (one routing word): an integration "
         "binds with event.<company>.# and RabbitMQ lets it bind no other company's key."),
        (topology.dead_letter_exchange, "<original routing key>", bytes,
         f"Messages no consumer could parse, with headers {ERROR_HEADER} (why) and "
         f"{SOURCE_QUEUE_HEADER}; and messages that reached the delivery limit."),
    )  # fmt: skip
    # Each command on its own routing key, with its payload's fields.
    envelopes = command_envelopes()
    commands = tuple(
        (
            topology.commands_exchange,
            command_routing_key(workflow_type, name),
            envelopes[name],
            f"{envelopes[name].__doc__} Refused with a command_refused event (status 422 for a "
            "payload that breaks this schema, 409 for a rule of the terms).",
        )
        for workflow_type, kind in registry.KINDS.items()
        for name in kind.COMMANDS.payloads()
    )
    for exchange, routing_key, schema, description in (*documented, *commands):
        broker.publisher(
            exchange=exchange,
            routing_key=routing_key,
            schema=schema,
            title=f"{exchange.name}:{routing_key}",
            description=description,
            persist=True,
        )
    spec = AsyncAPI(
        broker,
        title="equityflow",
        version="0.1.0",
        description="Commands, timers and events of equityflow's workflows over RabbitMQ.",
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    return _with_message_schemas(document)


# What each consumer receives. The consumers take the raw body (parsing it, and dead-lettering
# what does not parse, is their job), so FastStream can only describe it as bytes.
_RECEIVED = {
    "engine:command": "CommandMessage",
    "engine:timer": "TimerMessage",
    "engine:timers": "TimerBundle",
    "notices:events": "EventMessage",
}


def _with_message_schemas(document: dict[str, Any]) -> dict[str, Any]:
    messages, schemas = document["components"]["messages"], document["components"]["schemas"]
    for title, schema in _RECEIVED.items():
        message = messages[f"{title}:SubscribeMessage"]
        placeholder = message["payload"]["$ref"].rsplit("/", 1)[-1]
        message["payload"] = {"$ref": f"#/components/schemas/{schema}"}
        schemas.pop(placeholder, None)
    return document
