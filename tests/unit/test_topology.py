"""The topology and the services' user declared in code are the ones shipped in
deploy/rabbitmq/definitions.json."""

from __future__ import annotations

import json
from pathlib import Path

from services.bus.permissions import installation_definitions
from services.bus.topology import DELIVERY_LIMIT, Topology

DEFINITIONS = Path(__file__).parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def test_committed_definitions_equal_the_code() -> None:
    committed = json.loads(DEFINITIONS.read_text())
    assert committed == installation_definitions(Topology()), (
        "deploy/rabbitmq/definitions.json is out of date: run `equityflow export-topology`"
    )


def test_work_queues_are_quorum_queues_that_dead_letter() -> None:
    definitions = Topology("ef").to_definitions()
    queues = {q["name"]: q for q in definitions["queues"]}
    assert set(queues) == {"ef.engine", "ef.notices", "ef.dead-letter"}
    for name in ("ef.engine", "ef.notices"):
        arguments = queues[name]["arguments"]
        assert queues[name]["durable"] is True
        assert arguments["x-queue-type"] == "quorum"
        assert arguments["x-dead-letter-exchange"] == "ef.dead-letter"
        assert arguments["x-delivery-limit"] == DELIVERY_LIMIT
    assert queues["ef.dead-letter"]["arguments"]["x-queue-type"] == "quorum"


def test_bindings_route_commands_timers_events_and_dead_letters() -> None:
    bindings = {
        (b["source"], b["routing_key"], b["destination"])
        for b in Topology("ef").to_definitions()["bindings"]
    }
    assert bindings == {
        ("ef.commands", "command.#", "ef.engine"),
        ("ef.commands", "timer.#", "ef.engine"),
        ("ef.events", "event.#", "ef.notices"),
        ("ef.dead-letter", "#", "ef.dead-letter"),
    }
    exchanges = {e["name"]: e["type"] for e in Topology("ef").to_definitions()["exchanges"]}
    assert exchanges == {"ef.commands": "topic", "ef.events": "topic", "ef.dead-letter": "topic"}


def test_logical_exchange_names_map_to_the_namespace() -> None:
    topology = Topology("ef")
    assert topology.exchange("events").name == "ef.events"
    assert topology.exchange("commands").name == "ef.commands"
