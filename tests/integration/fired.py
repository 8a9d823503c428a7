"""What the deadlines service fired, seen through a tap: the timers of its bundles, one by one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aio_pika.abc import AbstractIncomingMessage

from services.bus.tap import Tap, eventually
from workflows.messages import TimerBundle, TimerMessage

#: Tap the commands exchange with this key to see the bundles of timers (``timers.<shard>``).
BUNDLES = "timers.#"


@dataclass(frozen=True)
class Fired:
    """One timer fired: its message, its JSON text, and the bundle's routing key."""

    timer: TimerMessage
    body: bytes
    routing_key: str

    @property
    def message_id(self) -> str:
        return self.timer.message_id


def timers_in(messages: Sequence[AbstractIncomingMessage]) -> list[Fired]:
    """The timers of every bundle tapped, in the order sent."""
    return [
        Fired(timer, timer.model_dump_json().encode(), m.routing_key or "")
        for m in messages
        for timer in TimerBundle.model_validate_json(m.body).timers
    ]


async def until_fired(tapped: Tap, count: int, within: float = 20.0) -> list[Fired]:
    """The first ``count`` timers tapped; ``TimeoutError`` if they do not arrive ``within`` s."""

    async def enough() -> list[Fired]:
        timers = timers_in(tapped.messages)
        return timers[:count] if len(timers) >= count else []

    return await eventually(enough, within)
