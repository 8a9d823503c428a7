"""The AsyncAPI document is generated from the running code: its queues, exchanges and schemas."""

from __future__ import annotations

from services.bus import Topology, asyncapi_document


def test_asyncapi_documents_the_queues_exchanges_and_message_schemas() -> None:
    document = asyncapi_document(Topology("ef"))
    assert document["asyncapi"].startswith("3.")
    channels = document["channels"]
    queues = {
        c["address"]: c["bindings"]["amqp"]["queue"]["name"]
        for c in channels.values()
        if c["bindings"]["amqp"]["is"] == "queue"
    }
    assert queues == {"command.#": "ef.engine", "timer.#": "ef.engine", "event.#": "ef.notices"}
    exchanges = {
        c["address"]: c["bindings"]["amqp"]["exchange"]["name"]
        for c in channels.values()
        if c["bindings"]["amqp"]["is"] == "routingKey"
    }
    assert exchanges["command.<workflow_type>.<command>"] == "ef.commands"
    assert exchanges["timer.<workflow_type>.<timer>"] == "ef.commands"
    assert exchanges["event.<company>.<workflow_type>.<type>"] == "ef.events"
    schemas = document["components"]["schemas"]
    assert {"CommandMessage", "TimerMessage", "EventMessage"} <= set(schemas)
    assert {"message_id", "company_id", "workflow_id", "command", "actor"} <= set(
        schemas["CommandMessage"]["required"]
    )
