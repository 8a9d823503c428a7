"""Who sent a message over RabbitMQ: the ``user_id`` the broker itself validated.

RabbitMQ refuses a publish whose ``user_id`` property is not the user of the connection that
publishes it, so on RabbitMQ ``user_id`` names the sender, authenticated by the broker. Every
publish of an equityflow service carries its own user's name there; an integration must set
``user_id`` to its RabbitMQ user. A message without one is nobody's, and is refused.

A service that republishes another sender's message (a consumer dead-lettering it, ``equityflow
redrive`` sending it back) names the original sender in the ``x-equityflow-sender`` header, empty
for a message that had none. The header is believed only on a message a service user published:
anyone else's copy of it is ignored, so no integration can claim to send for another.

With the in-memory broker (``equityflow up`` without ``AMQP_URL``) every publisher and consumer is
in one process and there is no user to check: the gate is open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

#: The sender a service republishes a message for ("" for a message that named nobody).
SENDER_HEADER = "x-equityflow-sender"


def amqp_user(amqp_url: str) -> str:
    """The RabbitMQ user an AMQP URL logs in as (``guest`` when the URL names none)."""
    return unquote(urlsplit(amqp_url).username or "guest")


@dataclass(frozen=True)
class Gate:
    """What the consumers trust: the services' RabbitMQ users (None: in memory, trust all)."""

    service_users: frozenset[str] | None = None

    @classmethod
    def for_broker(cls, amqp_url: str | None, service_users: Iterable[str] = ()) -> Gate:
        """On RabbitMQ: this process's own user and ``service_users``; in memory: open."""
        if amqp_url is None:
            return cls(None)
        return cls(frozenset({amqp_user(amqp_url), *service_users}))

    @property
    def authenticates(self) -> bool:
        return self.service_users is not None

    def is_service(self, user: str | None) -> bool:
        return self.service_users is None or (user is not None and user in self.service_users)

    def sender(self, user_id: str | None, headers: Mapping[str, Any] | None) -> str | None:
        """The authenticated sender: ``user_id``, or the sender a service republished for."""
        if user_id and self.service_users is not None and user_id in self.service_users:
            on_behalf = (headers or {}).get(SENDER_HEADER)
            if on_behalf is not None:
                text = on_behalf.decode() if isinstance(on_behalf, bytes) else str(on_behalf)
                return text or None
        return user_id or None
