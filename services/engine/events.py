"""The events a transaction puts in the outbox, with ids derived from the message id.

Deriving event ids from (company, message kind, message id, position) means a message applied
after a crash and redelivery produces the same event ids, so consumers can deduplicate on
``event_id``. Commands and timers are separate key spaces (a command may carry a timer's id as
its message id), so the kind is a part too; ``services.ids`` encodes the parts so that no
company's message id can produce another company's event id.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic_core import to_jsonable_python

from services.ids import derived_id, derived_ids
from services.store.canonical import (
    NotPlain,
    dump_json,
    json_text,
    normalise,
    plain,
    plain_json,
)
from services.store.unit_write import HistoryEvents, HistoryRow, OutboxRow
from workflows.messages import event_routing_key

EVENTS_EXCHANGE = "events"  # logical name; the bus maps it to its namespaced exchange
_LEGACY_EVENT_IDS = uuid.UUID("5d0c3f52-8d8e-4b7a-9a53-3a0b8f1e2c41")


def event_id(company_id: str, message_id: str, position: int, kind: str = "command") -> str:
    """The id of the ``position``-th event of a message (also its outbox message id)."""
    return derived_id("event", company_id, kind, message_id, position)


def event_ids(company_id: str, message_id: str, kind: str = "command") -> Callable[[int], str]:
    """``position → event_id(company_id, message_id, position, kind)``, for one message."""
    return derived_ids("event", company_id, kind, message_id)


# A pure function of three names, of which a deployment has a few hundred combinations; it
# percent-encodes the company id character by character, so it is worth remembering.
_routing_key = functools.lru_cache(maxsize=4096)(event_routing_key)


def legacy_event_id(company_id: str, message_id: str, position: int, kind: str) -> str:
    """The ambiguous id events were given before ``derived_id``: only to find stored ones."""
    key = f"{company_id}\x1f{message_id}\x1f{position}"
    return str(uuid.uuid5(_LEGACY_EVENT_IDS, key if kind == "command" else f"{kind}\x1f{key}"))


def json_safe(value: Any) -> Any:
    """Dates, decimals and tuples as JSON, and numbers as they will read back from JSONB.

    No text is made: the value is encoded once, when it is written (``dump_json``).
    """
    try:
        return plain(value)  # the common case: JSON types already, copied in one pass
    except NotPlain:
        return normalise(to_jsonable_python(value))


def json_safe_text(value: Any) -> tuple[Any, str]:
    """``json_safe(value)`` and its canonical text, encoded once: the value itself when it
    holds JSON types only (the engine's data and messages, nearly always), else a copy."""
    text = json_text(value)
    if text is not None:
        return value, text
    try:
        safe = plain(value)
    except NotPlain:
        safe = normalise(to_jsonable_python(value))
        return safe, dump_json(safe)
    return safe, plain_json(safe)


@dataclass(slots=True)  # made once per message: slots are quicker to make and to read
class EventLog:
    """The events of one transition (or refusal), in order, each encoded once: the same text
    goes into the history row, its hash and the outbox."""

    company_id: str
    workflow_id: UUID
    workflow_type: str
    message_id: str
    occurred_at: datetime
    message_kind: str = "command"  # "command" or "timer": the inbox key space of the message
    bodies: list[dict[str, Any]] = field(default_factory=list)
    texts: list[str] = field(default_factory=list)
    _occurred_at: Any = field(default=None, repr=False)
    _workflow_id: str = field(default="", repr=False)
    _ids: Callable[[int], str] | None = field(default=None, repr=False)

    def add(self, event_type: str, payload: Mapping[str, Any], version: int) -> None:
        # The body of an ``EventMessage``, as ``model_dump(mode="json")`` makes it, built
        # directly: the engine makes thousands a second, and its own fields need no checking
        # (a unit test holds the two equal; a payload the database cannot store is refused
        # by it, and the message dead-lettered with why).
        if self._ids is None:  # what every event of the message shares, made once
            self._occurred_at = to_jsonable_python(self.occurred_at)
            self._workflow_id = str(self.workflow_id)
            self._ids = event_ids(self.company_id, self.message_id, self.message_kind)
        body = {
            "kind": "event",
            "event_id": self._ids(len(self.bodies)),
            "company_id": self.company_id,
            "workflow_id": self._workflow_id,
            "workflow_type": self.workflow_type,
            "type": event_type,
            "version": version,
            "occurred_at": self._occurred_at,
            "payload": dict(payload),
            "caused_by": self.message_id,
        }
        # The body and its payload in one pass when the payload holds JSON types only (nearly
        # always): encoded as it is, nothing copied. Anything else is made JSON-safe first.
        text = json_text(body)
        if text is None:
            encode = plain_json  # the body's own fields are strings and an integer
            try:
                body["payload"] = plain(body["payload"])
            except NotPlain:
                body["payload"] = normalise(to_jsonable_python(body["payload"]))
                encode = dump_json
            text = encode(body)
        self.bodies.append(body)
        self.texts.append(text)

    def json(self) -> str:
        """The events as one JSON array: the history row's ``events`` column."""
        return "[" + ",".join(self.texts) + "]"

    def outbox_rows(self) -> list[OutboxRow]:
        """The events as outbox rows with their own texts (a refusal's: no history row)."""
        company, workflow, kind = self.company_id, self.workflow_id, self.workflow_type
        return [
            OutboxRow(company, workflow, EVENTS_EXCHANGE,
                      _routing_key(company, kind, body["type"]), body["event_id"], text)
            for body, text in zip(self.bodies, self.texts, strict=True)
        ]  # fmt: skip

    def history_events(self, history: HistoryRow) -> HistoryEvents:
        """The events as the outbox rows of ``history``, whose ``events`` column is ``json()``:
        PostgreSQL takes each one's text from there, the batch sends its key and id."""
        company, kind = self.company_id, self.workflow_type
        return HistoryEvents(
            history,
            EVENTS_EXCHANGE,
            [_routing_key(company, kind, body["type"]) for body in self.bodies],
            [body["event_id"] for body in self.bodies],
        )
