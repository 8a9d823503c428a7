"""The RabbitMQ topology, declared in code and exported as RabbitMQ definitions.

Two topic exchanges carry the public contract (``workflows.messages``): *commands* (routing keys
``command.<workflow_type>.<name>`` and ``timer.<workflow_type>.<name>``) and *events*
(``event.<company>.<workflow_type>.<type>``, so that RabbitMQ topic permissions can keep each
integration to its own company's: ``services.bus.permissions``). Work queues are durable quorum
queues, so a message survives the loss of a RabbitMQ node; the notices queue is shared by every
replica.

The engine's work is split into ``engine_shards`` shard queues (``engine.0`` …), each with a
single active consumer: a workflow's messages all go to one shard (``engine_shard``: a stable
hash of its id), where one engine process at a time applies them, in queue order; every engine
process subscribes to every shard, so the shards spread over the processes and a survivor takes
over the shards of one that goes away (``services.bus.engine_queues``). The services publish
with the shard as a fourth word of the key (``command.<workflow_type>.<name>.<shard>``,
``engine_routing_key``); a key of three words, as an integration publishes, goes to the single
``engine`` queue, which every engine also consumes (one at a time, like a shard). That is also
the queue of an installation from before the shards: what it still holds is applied. The
deadlines service sends due timers in bundles, one AMQP message for many timers of one shard
(``workflows.messages.TimerBundle``), with the key ``timers.<shard>``
(``timer_bundle_routing_key``), bound to that shard's queue alone.

A message that cannot be parsed is dead-lettered by the consumer with
its reason; a message that keeps failing is dead-lettered by RabbitMQ once it reaches the
queue's delivery limit, or, on the engine queue, once the engine rejects it after as many
attempts (``services.bus.engine_feed``).

Every name carries the namespace, so several installations (or tests) can share one RabbitMQ.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from faststream.rabbit import ExchangeType, QueueType, RabbitExchange, RabbitQueue

if TYPE_CHECKING:
    from uuid import UUID

    from faststream.rabbit.schemas.queue import QuorumQueueArgs

#: Deliveries of one message before a quorum queue dead-letters it (each failed attempt backs
#: off first, see ``services.bus.consumers``): a database outage of several minutes is retried,
#: a message that fails forever is parked instead of looping.
DELIVERY_LIMIT = 20
#: Shard queues of the engine (``EQUITYFLOW_ENGINE_SHARDS``): at least as many as engine
#: processes are expected, since one shard is applied by one process at a time.
DEFAULT_ENGINE_SHARDS = 4

# The logical exchange names the outbox stores; the topology maps them to namespaced ones.
COMMANDS = "commands"
EVENTS = "events"
DEAD_LETTER = "dead_letter"

ERROR_HEADER = "x-equityflow-error"
SOURCE_QUEUE_HEADER = "x-equityflow-source-queue"
#: The routing key a dead letter had when it was published (``equityflow redrive`` uses it).
ROUTING_KEY_HEADER = "x-equityflow-routing-key"
#: How many times ``equityflow redrive`` has sent a message back.
REDRIVEN_HEADER = "x-equityflow-redriven"


@dataclass(frozen=True)
class Binding:
    exchange: RabbitExchange
    queue: RabbitQueue
    routing_key: str


@dataclass(frozen=True)
class Topology:
    namespace: str = "equityflow"
    delivery_limit: int = DELIVERY_LIMIT
    engine_shards: int = DEFAULT_ENGINE_SHARDS

    def _name(self, what: str) -> str:
        return f"{self.namespace}.{what}"

    # -- exchanges --------------------------------------------------------------------------
    @property
    def commands_exchange(self) -> RabbitExchange:
        return RabbitExchange(self._name("commands"), type=ExchangeType.TOPIC, durable=True)

    @property
    def events_exchange(self) -> RabbitExchange:
        return RabbitExchange(self._name("events"), type=ExchangeType.TOPIC, durable=True)

    @property
    def dead_letter_exchange(self) -> RabbitExchange:
        # Topic, bound with '#': a dead letter keeps its original routing key.
        return RabbitExchange(self._name("dead-letter"), type=ExchangeType.TOPIC, durable=True)

    def exchange(self, logical: str) -> RabbitExchange:
        """The exchange for a logical name stored in the outbox (``events``, ``commands``)."""
        exchanges = {
            COMMANDS: self.commands_exchange,
            EVENTS: self.events_exchange,
            DEAD_LETTER: self.dead_letter_exchange,
        }
        try:
            return exchanges[logical]
        except KeyError:
            raise ValueError(f"unknown logical exchange {logical!r}") from None

    @property
    def exchanges(self) -> tuple[RabbitExchange, ...]:
        return (self.commands_exchange, self.events_exchange, self.dead_letter_exchange)

    # -- queues -----------------------------------------------------------------------------
    def _work_queue(
        self, what: str, routing_key: str = "", *, single_active_consumer: bool = False
    ) -> RabbitQueue:
        # One consumer at a time receives the engine queue's messages, in queue order: the
        # messages of one workflow are then applied in the order they were published, which
        # several consumers of one queue cannot promise. The other replicas stand by.
        extra: QuorumQueueArgs = (
            {"x-single-active-consumer": True} if single_active_consumer else {}
        )
        return RabbitQueue(
            self._name(what),
            queue_type=QueueType.QUORUM,
            durable=True,
            routing_key=routing_key,
            arguments={
                "x-dead-letter-exchange": self.dead_letter_exchange.name,
                "x-delivery-limit": self.delivery_limit,
                # at-least-once dead-lettering: a parked message is never dropped on the way
                # to the dead-letter queue (needs reject-publish overflow).
                "x-dead-letter-strategy": "at-least-once",
                "x-overflow": "reject-publish",
                **extra,
            },
        )

    @property
    def engine_queue(self) -> RabbitQueue:
        """The engine's intake for keys without a shard (an integration's), and the one engine
        queue of an installation from before the shards."""
        return self._work_queue("engine", single_active_consumer=True)

    def engine_shard(self, workflow_id: UUID | str) -> int:
        """The shard of a workflow: the same in every process and every release (a CRC of the
        id's canonical text, not Python's salted ``hash``), so all its messages meet in one
        queue, in the order they were published."""
        return zlib.crc32(str(workflow_id).lower().encode()) % self.engine_shards

    def engine_routing_key(self, routing_key: str, workflow_id: UUID | str) -> str:
        """``command.<type>.<name>`` or ``timer.<type>.<name>`` with the workflow's shard as a
        fourth word: what every equityflow service publishes to the engine with."""
        return f"{routing_key}.{self.engine_shard(workflow_id)}"

    def timer_bundle_routing_key(self, shard: int) -> str:
        """``timers.<shard>``: a bundle of timers, every one of them of that shard."""
        return f"timers.{shard}"

    def outbox_routing_key(self, logical_exchange: str, routing_key: str, body: Any) -> str:
        """The key for an outbox row: a command to a workflow goes to its shard (the row keeps
        the key without it; ``body`` is the decoded message), an event as stored."""
        if logical_exchange != COMMANDS or not isinstance(body, dict):
            return routing_key
        workflow_id = body.get("workflow_id")
        return self.engine_routing_key(routing_key, workflow_id) if workflow_id else routing_key

    def engine_shard_queue(self, shard: int) -> RabbitQueue:
        return self._work_queue(f"engine.{shard}", single_active_consumer=True)

    def engine_queue_of(self, workflow_id: UUID | str) -> RabbitQueue:
        return self.engine_shard_queue(self.engine_shard(workflow_id))

    @property
    def engine_queues(self) -> tuple[RabbitQueue, ...]:
        """Every queue the engine consumes: the intake, then the shards."""
        shards = (self.engine_shard_queue(n) for n in range(self.engine_shards))
        return (self.engine_queue, *shards)

    @property
    def notices_queue(self) -> RabbitQueue:
        return self._work_queue("notices")

    @property
    def dead_letter_queue(self) -> RabbitQueue:
        return RabbitQueue(self._name("dead-letter"), queue_type=QueueType.QUORUM, durable=True)

    @property
    def queues(self) -> tuple[RabbitQueue, ...]:
        return (*self.engine_queues, self.notices_queue, self.dead_letter_queue)

    @property
    def bindings(self) -> tuple[Binding, ...]:
        # Three words to the intake, four (the last the shard) to a shard: never both. A
        # bundle of timers (``timers.<shard>``) only to its shard.
        shards = (
            binding
            for n in range(self.engine_shards)
            for binding in (
                *(
                    Binding(self.commands_exchange, self.engine_shard_queue(n), f"{kind}.*.*.{n}")
                    for kind in ("command", "timer")
                ),
                Binding(
                    self.commands_exchange,
                    self.engine_shard_queue(n),
                    self.timer_bundle_routing_key(n),
                ),
            )
        )
        return (
            Binding(self.commands_exchange, self.engine_queue, "command.*.*"),
            Binding(self.commands_exchange, self.engine_queue, "timer.*.*"),
            *shards,
            Binding(self.events_exchange, self.notices_queue, "event.#"),
            Binding(self.dead_letter_exchange, self.dead_letter_queue, "#"),
        )

    #: What the engine queue was bound with before the shards: ``declare_topology`` removes
    #: these bindings, which would now copy every shard's messages to the intake too.
    @property
    def retired_bindings(self) -> tuple[Binding, ...]:
        return (
            Binding(self.commands_exchange, self.engine_queue, "command.#"),
            Binding(self.commands_exchange, self.engine_queue, "timer.#"),
        )

    # In memory (FastStream's test broker routes by a subscriber's key, not by bindings) the
    # engine is three subscriptions of the intake, one per kind, which every key matches.
    @property
    def engine_subscriptions(self) -> tuple[RabbitQueue, ...]:
        return tuple(
            self._work_queue("engine", key, single_active_consumer=True)
            for key in ("command.#", "timer.#", "timers.#")
        )

    @property
    def notices_subscription(self) -> RabbitQueue:
        return self._work_queue("notices", "event.#")

    @property
    def dead_letter_subscription(self) -> RabbitQueue:
        return RabbitQueue(
            self._name("dead-letter"), queue_type=QueueType.QUORUM, durable=True, routing_key="#"
        )

    # -- export -----------------------------------------------------------------------------
    def to_definitions(self, vhost: str = "/") -> dict[str, Any]:
        """RabbitMQ definitions (``rabbitmqctl import_definitions``) for this topology."""
        return {
            "exchanges": [
                {
                    "name": e.name,
                    "vhost": vhost,
                    "type": e.type.value,
                    "durable": e.durable,
                    "auto_delete": e.auto_delete,
                    "internal": False,
                    "arguments": dict(e.arguments or {}),
                }
                for e in self.exchanges
            ],
            "queues": [
                {
                    "name": q.name,
                    "vhost": vhost,
                    "durable": q.durable,
                    "auto_delete": q.auto_delete,
                    "arguments": dict(q.arguments or {}),
                }
                for q in self.queues
            ],
            "bindings": [
                {
                    "source": b.exchange.name,
                    "vhost": vhost,
                    "destination": b.queue.name,
                    "destination_type": "queue",
                    "routing_key": b.routing_key,
                    "arguments": {},
                }
                for b in self.bindings
            ],
        }
