"""The AsyncAPI document is generated from the running code: its queues, exchanges and schemas."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from services.bus.asyncapi import asyncapi_document
from services.bus.topology import Topology


def test_asyncapi_documents_the_queues_exchanges_and_message_schemas() -> None:
    document = asyncapi_document(Topology("ef"))
    assert document["asyncapi"].startswith("3.")
    channels = document["channels"]
    queues = {
        c["address"]: c["bindings"]["amqp"]["queue"]["name"]
        for c in channels.values()
        if c["bindings"]["amqp"]["is"] == "queue"
    }
    assert queues == {
        "command.#": "ef.engine",
        "timer.#": "ef.engine",
        "timers.#": "ef.engine",
        "event.#": "ef.notices",
    }
    exchanges = {
        c["address"]: c["bindings"]["amqp"]["exchange"]["name"]
        for c in channels.values()
        if c["bindings"]["amqp"]["is"] == "routingKey"
    }
    assert exchanges["command.<workflow_type>.<command>"] == "ef.commands"
    assert exchanges["timer.<workflow_type>.<timer>"] == "ef.commands"
    assert exchanges["timers.<shard>"] == "ef.commands"
    assert exchanges["event.<company>.<workflow_type>.<type>"] == "ef.events"
    schemas = document["components"]["schemas"]
    assert {"CommandMessage", "TimerMessage", "TimerBundle", "EventMessage"} <= set(schemas)
    assert schemas["TimerBundle"]["required"] == ["kind", "timers"]
    assert {"message_id", "company_id", "workflow_id", "command", "actor"} <= set(
        schemas["CommandMessage"]["required"]
    )


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[unquote(part)]
    return node


def test_each_consumer_channel_shows_the_message_it_receives_and_kind_is_optional() -> None:
    document = asyncapi_document(Topology("ef"))
    received = {}
    for channel in document["channels"].values():
        if channel["bindings"]["amqp"]["is"] != "queue":
            continue
        [message] = channel["messages"].values()
        payload = _resolve(document, message["$ref"])["payload"]
        received[channel["address"]] = payload["$ref"].rsplit("/", 1)[-1]
        assert _resolve(document, payload["$ref"])["type"] == "object"
    assert received == {
        "command.#": "CommandMessage",
        "timer.#": "TimerMessage",
        "timers.#": "TimerBundle",
        "event.#": "EventMessage",
    }
    command = document["components"]["schemas"]["CommandMessage"]
    assert "kind" not in command["required"]
    assert "routing key" in command["properties"]["kind"]["description"]
