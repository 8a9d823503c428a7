"""A batch goes out in waves: one message of each workflow at a time, their confirms together."""

from __future__ import annotations

import asyncio
from typing import Any

from faststream.rabbit import RabbitExchange

from services.bus.ordered_publish import Publication, publish_in_order

EVENTS = RabbitExchange("events")


class Recording:
    """Records what was in flight together; refuses the message ids it is told to, once."""

    def __init__(self, refuse: frozenset[str] = frozenset()) -> None:
        self.refuse, self.in_flight, self.waves = set(refuse), 0, [0]
        self.sent: list[str] = []

    async def publish(self, body: bytes, *, message_id: str, **_: Any) -> None:
        self.in_flight += 1
        self.waves[-1] = max(self.waves[-1], self.in_flight)
        self.sent.append(message_id)
        await asyncio.sleep(0)  # the confirm's wait: every other publish of the wave starts
        self.in_flight -= 1
        if self.in_flight == 0:
            self.waves.append(0)
        if message_id in self.refuse:
            self.refuse.discard(message_id)
            raise ConnectionError(f"nack {message_id}")


def batch(*keys: str) -> list[Publication[str]]:
    """One publication per key; its ref (and message id) is key + its rank in that workflow."""
    seen: dict[str, int] = {}
    out = []
    for k in keys:
        seen[k] = seen.get(k, 0) + 1
        ref = f"{k}{seen[k]}"
        out.append(Publication(ref, k, b"{}", EVENTS, "event.x", ref))
    return out


async def test_each_wave_holds_one_message_of_every_workflow_in_order() -> None:
    publisher = Recording()
    result = await publish_in_order(publisher, batch("a", "a", "b", "a", "c", "b"))
    assert result.waves == 3
    assert publisher.sent == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert publisher.waves[:3] == [3, 2, 1]  # all of a wave awaited their confirms together
    assert result.confirmed == ["a1", "b1", "c1", "a2", "b2", "a3"]
    assert not result.failed and not result.held_back


async def test_a_failure_holds_back_the_rest_of_its_workflow_only() -> None:
    publisher = Recording(refuse=frozenset({"a2"}))
    result = await publish_in_order(publisher, batch("a", "a", "b", "a", "b", "b"))
    assert "a3" not in publisher.sent  # never sent past the message that failed
    assert result.confirmed == ["a1", "b1", "b2", "b3"]
    assert [ref for ref, _ in result.failed] == ["a2"]
    assert result.held_back == ["a3"]
