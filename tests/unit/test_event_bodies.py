"""The engine builds event bodies itself; each must be what the public ``EventMessage`` model
makes of it, so that what is stored, hashed and published keeps the contract."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from services.engine.events import EventLog
from workflows.messages import EventMessage


def test_an_event_body_is_the_event_message_model_s_own_dump() -> None:
    pacific = timezone(timedelta(hours=-8))
    for at in (
        datetime(2026, 3, 2, 17, tzinfo=UTC),
        datetime(2026, 3, 2, 9, 30, 15, tzinfo=pacific),
    ):
        log = EventLog("acme", uuid.uuid4(), "rofr", "m-1", at, "timer")
        log.add("deadline_set", {"n": 2.0, "when": at, "list": (1, "a")}, 3)
        log.add("command_refused", {}, 3)
        for body in log.bodies:
            assert EventMessage.model_validate(body).model_dump(mode="json") == body
        assert log.bodies[0]["payload"] == {"n": 2, "when": at.isoformat().replace("+00:00", "Z"),
                                            "list": [1, "a"]}  # fmt: skip
