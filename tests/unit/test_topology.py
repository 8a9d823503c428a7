"""The topology and the services' user declared in code are the ones shipped in
deploy/rabbitmq/definitions.json."""

from __future__ import annotations

import json
import zlib
from collections import Counter
from pathlib import Path
from uuid import UUID, uuid4

from services.bus.permissions import installation_definitions
from services.bus.topology import DEFAULT_ENGINE_SHARDS, DELIVERY_LIMIT, Topology

DEFINITIONS = Path(__file__).parents[2] / "deploy" / "rabbitmq" / "definitions.json"


def test_committed_definitions_equal_the_code() -> None:
    committed = json.loads(DEFINITIONS.read_text())
    assert committed == installation_definitions(Topology()), (
        "deploy/rabbitmq/definitions.json is out of date: run `equityflow export-topology`"
    )


def test_work_queues_are_quorum_queues_that_dead_letter() -> None:
    definitions = Topology("ef").to_definitions()
    queues = {q["name"]: q for q in definitions["queues"]}
    engine = {"ef.engine", *(f"ef.engine.{n}" for n in range(DEFAULT_ENGINE_SHARDS))}
    assert set(queues) == {*engine, "ef.notices", "ef.dead-letter"}
    for name in (*engine, "ef.notices"):
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
    shards = {
        ("ef.commands", key, f"ef.engine.{n}")
        for n in range(DEFAULT_ENGINE_SHARDS)
        for key in (f"command.*.*.{n}", f"timer.*.*.{n}", f"timers.{n}")  # timers: bundles
    }
    assert bindings == {
        ("ef.commands", "command.*.*", "ef.engine"),
        ("ef.commands", "timer.*.*", "ef.engine"),
        *shards,
        ("ef.events", "event.#", "ef.notices"),
        ("ef.dead-letter", "#", "ef.dead-letter"),
    }
    exchanges = {e["name"]: e["type"] for e in Topology("ef").to_definitions()["exchanges"]}
    assert exchanges == {"ef.commands": "topic", "ef.events": "topic", "ef.dead-letter": "topic"}


def test_logical_exchange_names_map_to_the_namespace() -> None:
    topology = Topology("ef")
    assert topology.exchange("events").name == "ef.events"
    assert topology.exchange("commands").name == "ef.commands"


def test_engine_queues_have_a_single_active_consumer() -> None:
    for queue in Topology("ef", engine_shards=3).engine_queues:
        assert (queue.arguments or {})["x-single-active-consumer"] is True


def test_a_workflow_always_has_the_same_shard_and_the_workflows_spread_over_all() -> None:
    topology = Topology("ef", engine_shards=4)
    workflow = UUID("0b6f3c5e-6f0e-4d8e-9a55-2f1d3b9c7a10")
    shard = topology.engine_shard(workflow)
    # The same from its UUID, its text in any case, and in another process (a CRC, not hash()).
    assert (
        topology.engine_shard(str(workflow).upper())
        == shard
        == zlib.crc32(str(workflow).encode()) % 4
    )
    key = topology.engine_routing_key("command.rofr.accept", workflow)
    assert key == f"command.rofr.accept.{shard}"
    assert topology.engine_queue_of(workflow).name == f"ef.engine.{shard}"
    spread = Counter(topology.engine_shard(uuid4()) for _ in range(400))
    assert set(spread) == {0, 1, 2, 3} and min(spread.values()) > 50


def test_outbox_commands_go_to_their_shard_and_events_keep_their_key() -> None:
    topology = Topology("ef", engine_shards=4)
    workflow = str(uuid4())
    body = {"workflow_id": workflow, "command": "accept"}
    key = topology.outbox_routing_key("commands", "command.rofr.accept", body)
    assert key == topology.engine_routing_key("command.rofr.accept", workflow)
    assert topology.outbox_routing_key("events", "event.acme.rofr.x", body) == "event.acme.rofr.x"
