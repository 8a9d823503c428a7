"""The routing words and permission regexes that keep each integration to its own company.

RabbitMQ matches these regexes (PCRE) itself; the integration tests show it against the broker.
Here: no binding key an integration may use reaches another company's events, whatever the
company ids, and the gate believes a republished sender only from a service.
"""

from __future__ import annotations

import itertools
import re

import pytest

from services.bus.auth import SENDER_HEADER, Gate, amqp_user
from services.bus.permissions import company_events_binding, integration_permissions
from services.bus.topology import Topology
from workflows.messages import event_routing_key, routing_word

# Company ids that differ where routing keys split: at dots, prefixes, encodings.
COMPANIES = ["acme", "acme.eu", "acme.eu.x", "acme-eu", "acme_eu", "acme%2Eeu", "a", "a.", ".a"]
PAIRS = list(itertools.product(COMPANIES, COMPANIES))


@pytest.mark.parametrize(("one", "other"), PAIRS)
def test_a_company_word_is_one_word_and_never_another_companys(one: str, other: str) -> None:
    assert "." not in routing_word(one) and not set("*#") & set(routing_word(one))
    assert (routing_word(one) == routing_word(other)) == (one == other)


@pytest.mark.parametrize(("own", "other"), PAIRS)
def test_an_integration_may_bind_only_to_its_own_companys_events(own: str, other: str) -> None:
    topology = Topology("ef")
    grant = integration_permissions(topology, "integration-a", own)
    (events,) = [t for t in grant.topics if t.exchange == "ef.events"]
    may_bind = re.compile(events.read)
    assert may_bind.search(company_events_binding(own))
    assert may_bind.search(event_routing_key(own, "rofr", "deadline_set"))
    if own != other:
        assert not may_bind.search(company_events_binding(other))
        assert not may_bind.search(event_routing_key(other, "rofr", "deadline_set"))
    for wildcard in ("event.#", "#", "event.*.rofr.deadline_set", "*.*.*.*"):
        assert not may_bind.search(wildcard)


def test_an_integration_publishes_commands_only_and_touches_only_its_own_queues() -> None:
    topology = Topology("ef")
    grant = integration_permissions(topology, "a.b", "acme")
    (commands,) = [t for t in grant.topics if t.exchange == "ef.commands"]
    assert re.search(commands.write, "command.rofr.exercise_rofr")
    assert not re.search(commands.write, "timer.rofr.company_election")
    write, read = re.compile(grant.write), re.compile(grant.read)
    assert write.search("ef.commands") and not write.search("ef.events")
    assert read.search("ef.events") and not read.search("ef.commands")
    for queue in ("ef.engine", "ef.notices", "ef.dead-letter", "amq.default", "ef.integration.a."):
        assert not write.search(queue) and not read.search(queue), queue
    assert read.search("ef.integration.a%2Eb.orders") and read.search("amq.gen-Xyz")
    # User "a" may not reach the queues of user "a.b".
    assert not re.search(
        integration_permissions(topology, "a", "acme").read, "ef.integration.a%2Eb.q"
    )


def test_the_gate_believes_a_republished_sender_only_from_a_service() -> None:
    gate = Gate.for_broker("amqp://equityflow:secret@rabbitmq:5672/", ["engine"])
    assert amqp_user("amqp://x%40y:p@h/") == "x@y"
    assert gate.sender("equityflow", {SENDER_HEADER: "integration-a"}) == "integration-a"
    assert gate.sender("engine", {SENDER_HEADER: ""}) is None  # republished; nobody's
    assert gate.sender("engine", {}) == "engine"
    assert gate.sender("mallory", {SENDER_HEADER: "equityflow"}) == "mallory"
    assert gate.sender(None, {SENDER_HEADER: "equityflow"}) is None
    assert not gate.is_service("mallory") and not gate.is_service(None)
    assert Gate.for_broker(None).is_service(None)  # in memory: one process, no users
