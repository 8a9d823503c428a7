"""RabbitMQ permissions: what the services' users and each integration's user may touch.

RabbitMQ checks these, not equityflow (rabbitmq.com/access-control.html):

- *permissions* (configure, write, read regexes over exchange and queue names): the services'
  user has the namespace; an integration writes only to the commands exchange, reads only from
  the events exchange, and declares, binds and consumes only its own queues (server-named ones,
  or ``<namespace>.integration.<user>.*``);
- *topic permissions* (write and read regexes over routing keys, per topic exchange): an
  integration publishes only ``command.*`` keys (never ``timer.*`` nor ``timers.*``: timers are
  the deadlines service's), and binds to the events exchange only with keys of its own company,
  ``event.<company>.*`` (``workflows.messages.routing_word``), so it can read no other company's
  events. The services' user has no topic permission set, so every key is open to it.

``equityflow integrations add`` prints the ``rabbitmqctl`` commands for an integration; the
services' user is in ``deploy/rabbitmq/definitions.json`` (``equityflow export-topology``).
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from typing import Any

from services.bus.topology import Topology
from workflows.messages import routing_word

#: The services' RabbitMQ user in the shipped definitions (the user of their ``AMQP_URL``).
SERVICES_USER = "equityflow"
#: RabbitMQ's name for the default exchange in permission checks (``equityflow redrive``
#: sends a dead letter back to its queue through it).
DEFAULT_EXCHANGE = "amq.default"
NOTHING = "^$"


@dataclass(frozen=True)
class TopicPermission:
    exchange: str
    write: str
    read: str


@dataclass(frozen=True)
class UserPermissions:
    user: str
    configure: str
    write: str
    read: str
    topics: tuple[TopicPermission, ...] = ()

    def rabbitmqctl(self, vhost: str = "/") -> list[str]:
        """The commands that grant these permissions (after ``rabbitmqctl add_user``)."""
        q = shlex.quote
        lines = [
            f"rabbitmqctl set_permissions -p {q(vhost)} {q(self.user)} "
            f"{q(self.configure)} {q(self.write)} {q(self.read)}"
        ]
        lines += [
            f"rabbitmqctl set_topic_permissions -p {q(vhost)} {q(self.user)} "
            f"{q(t.exchange)} {q(t.write)} {q(t.read)}"
            for t in self.topics
        ]
        return lines

    def definitions(self, vhost: str = "/") -> dict[str, list[dict[str, Any]]]:
        """The ``permissions`` and ``topic_permissions`` sections of RabbitMQ definitions."""
        return {
            "permissions": [
                {
                    "user": self.user,
                    "vhost": vhost,
                    "configure": self.configure,
                    "write": self.write,
                    "read": self.read,
                }
            ],
            "topic_permissions": [
                {
                    "user": self.user,
                    "vhost": vhost,
                    "exchange": t.exchange,
                    "write": t.write,
                    "read": t.read,
                }
                for t in self.topics
            ],
        }


def service_permissions(topology: Topology, user: str = SERVICES_USER) -> UserPermissions:
    """Everything in the namespace, and the default exchange (redrive), every routing key."""
    namespace = f"^{re.escape(topology.namespace)}\\."
    return UserPermissions(
        user,
        configure=namespace,
        write=f"{namespace}|^{re.escape(DEFAULT_EXCHANGE)}$",
        read=namespace,
    )


def integration_queue_prefix(topology: Topology, user: str) -> str:
    """The names an integration may give its own queues start with this."""
    return f"{topology.namespace}.integration.{routing_word(user)}."


def integration_permissions(topology: Topology, user: str, company_id: str) -> UserPermissions:
    """Send commands, read the company's events, own queues; nothing else."""
    own = f"^amq\\.gen-.*$|^{re.escape(integration_queue_prefix(topology, user))}"
    commands = re.escape(topology.commands_exchange.name)
    events = re.escape(topology.events_exchange.name)
    return UserPermissions(
        user,
        configure=own,
        write=f"^{commands}$|{own}",
        read=f"^{events}$|{own}",
        topics=(
            TopicPermission(topology.commands_exchange.name, write=r"^command\.", read=NOTHING),
            TopicPermission(
                topology.events_exchange.name,
                write=NOTHING,
                read=f"^event\\.{re.escape(routing_word(company_id))}\\.",
            ),
        ),
    )


def company_events_binding(company_id: str) -> str:
    """The binding key for every event of a company (what an integration binds its queue with)."""
    return f"event.{routing_word(company_id)}.#"


def installation_definitions(
    topology: Topology, vhost: str = "/", user: str = SERVICES_USER
) -> dict[str, Any]:
    """RabbitMQ definitions of an installation: the topology and the services' user with its
    permissions.

    The user has no password (an empty hash: password login is off) until the operator sets
    one with ``rabbitmqctl change_password``; importing the file again turns it off again.
    """
    return {
        **topology.to_definitions(vhost),
        "users": [
            {
                "name": user,
                "password_hash": "",
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
        ],
        **service_permissions(topology, user).definitions(vhost),
    }
