"""The message bus: RabbitMQ topology, broker (real or in memory), publishers and consumers."""

from services.bus.asyncapi import asyncapi_document
from services.bus.consumers import Consumer, engine_consumer, notices_consumer
from services.bus.publisher import BrokerPublisher, InMemoryPublisher, Publisher
from services.bus.runner import (
    Bus,
    build_broker,
    declare_topology,
    delete_topology,
    running_bus,
)
from services.bus.topology import Topology

__all__ = [
    "BrokerPublisher",
    "Bus",
    "Consumer",
    "InMemoryPublisher",
    "Publisher",
    "Topology",
    "asyncapi_document",
    "build_broker",
    "declare_topology",
    "delete_topology",
    "engine_consumer",
    "notices_consumer",
    "running_bus",
]
