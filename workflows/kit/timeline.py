"""The record of accepted acts, each with the time it took effect, kept in the workflow's data.

Acts are judged by when they took effect, never by when they were entered. So the kit keeps,
under the kit-owned ``timeline`` key of the data, every act it accepted: the command, its
actor and payload, its message id, when it was entered and when it took effect (read per
command as the kind declares: a notice's effective time, a date in the payload, else the
entry time). The workflow's state is the replay of those acts in a canonical order
(``workflows.kit.replay``); the rules never see this key.

An act later contradicted by one effective before it stays in the record, marked ``void``
with the clause that voids it, and a reconciliation item is raised for the company.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from workflows.calendar import Deadline
from workflows.kernel import Actor, Command, Message, Party, SetTimer, TimerFired

TIMELINE = "timeline"
#: Where an act with no rank of its own sorts among acts taking effect at the same instant.
DEFAULT_RANK = 100
#: A timer recorded as an act (rows written before the timeline) comes after acts at its time:
#: an act effective at the very deadline is on time.
TIMER_RANK = 1000

Record = dict[str, Any]


# Made once: ``json.dumps`` with options builds a new encoder on every call.
_DIGEST_TEXT = json.JSONEncoder(sort_keys=True, default=str, separators=(",", ":"))


def _digest(content: Mapping[str, Any]) -> str:
    return hashlib.sha256(_DIGEST_TEXT.encode(content).encode()).hexdigest()


def command_act(
    command: Command, name: str, *, entered_at: datetime, effective_at: datetime, rank: int
) -> Record:
    """The record of an accepted command (``name`` is the command it resolved to)."""
    actor = command.actor
    content = {
        "command": name,
        "actor": {"party": str(actor.party), "name": actor.name, "reference": actor.reference},
        "payload": dict(command.payload),
    }
    return {
        **content,
        "id": command.message_id or "",
        "digest": _digest(content),
        "entered_at": entered_at.isoformat(),
        "effective_at": effective_at.isoformat(),
        "rank": rank,
    }


def timer_act(timer: TimerFired, *, entered_at: datetime) -> Record:
    """A timer of a row written before the timeline (its pending timers are not known to the
    replay), kept as an act at its due time so later replays fire it in its place."""
    content = {"timer": timer.name, "due_at": timer.due_at.isoformat()}
    return {
        **content,
        "id": "",
        "digest": _digest(content),
        "entered_at": entered_at.isoformat(),
        "effective_at": timer.due_at.isoformat(),
        "rank": TIMER_RANK,
    }


def message(act: Record) -> Message:
    if "timer" in act:
        return TimerFired(act["timer"], datetime.fromisoformat(act["due_at"]))
    a = act["actor"]
    return Command(
        act["command"],
        Actor(Party(a["party"]), a["name"], a["reference"]),
        act["payload"],
        act["id"],
    )


def sort_key(act: Record) -> tuple[datetime, int, int]:
    """The canonical order: effective time, then the kind's rank for the command. Only acts of
    the same rank taking effect at the very same instant (which the agreements do not order)
    are taken in the order they were entered."""
    return (datetime.fromisoformat(act["effective_at"]), act["rank"], act["seq"])


def label(act: Record) -> str:
    return act.get("command") or f"timer {act['timer']}"


def summary(act: Record) -> Record:
    """An act as a reconciliation item names it."""
    out = {"act": act["id"], "command": label(act), "entered_at": act["entered_at"]}
    out["effective_at"] = act["effective_at"]
    if "actor" in act:
        out["by"] = act["actor"]
    return out


def timer_record(t: SetTimer) -> Record:
    return {
        "name": t.name,
        "deadline": t.deadline.as_dict(),
        "party": str(t.party),
        "action": t.action,
    }


#: Each party by its text: ``Party(text)`` goes through the enum's metaclass, and every pending
#: timer is read on every message.
_PARTIES: dict[str, Party] = {p.value: p for p in Party}


def timer_from(r: Mapping[str, Any]) -> SetTimer:
    party = _PARTIES.get(r["party"]) or Party(r["party"])
    return SetTimer(r["name"], Deadline.from_dict(r["deadline"]), party, r["action"])


@dataclass
class Timeline:
    """The kit's part of a workflow's data."""

    acts: list[Record]
    #: Timers pending after the replay, by name.
    pending: dict[str, SetTimer]
    #: Timers the replay fired: ``{name, due_at, clause, transition}``.
    fired: list[Record]
    #: How far time has advanced: the latest due time of a timer message received.
    horizon: datetime | None
    #: Where the replay starts: None for a workflow begun under the timeline; the stored
    #: ``{state, data}`` of a row written before it (its earlier acts are not reordered).
    base: Record | None
    reconciliation: list[Record]

    @classmethod
    def read(cls, raw: Mapping[str, Any] | None) -> Timeline:
        raw = raw or {}
        horizon = raw.get("horizon")
        return cls(
            acts=[dict(a) for a in raw.get("acts", [])],
            pending={n: timer_from(t) for n, t in (raw.get("pending") or {}).items()},
            fired=[dict(f) for f in raw.get("fired", [])],
            horizon=datetime.fromisoformat(horizon) if horizon else None,
            base=raw.get("base"),
            reconciliation=[dict(r) for r in raw.get("reconciliation", [])],
        )

    def dump(self) -> Record:
        return {
            "acts": self.acts,
            "pending": {n: timer_record(t) for n, t in sorted(self.pending.items())},
            "fired": self.fired,
            "horizon": self.horizon.isoformat() if self.horizon else None,
            "base": self.base,
            "reconciliation": self.reconciliation,
        }

    def add(self, act: Record) -> Record:
        act["seq"] = len(self.acts)
        if not act["id"]:  # no message id (a test, a replay of old rows): its content names it
            act["id"] = f"act-{act['digest'][:12]}"
        if any(a["id"] == act["id"] for a in self.acts):
            act["id"] = f"{act['id']}-{act['seq']}"
        self.acts.append(act)
        return act

    def open_items(self) -> list[Record]:
        return [r for r in self.reconciliation if r.get("status") == "open"]
