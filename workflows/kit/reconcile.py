"""Facts a late-entered act contradicts: marked void, and a reconciliation item raised.

After a replay, each act recorded before is compared with what it came to before. One applied
before and refused now is a contradicted fact: it stays in the record, marked ``void`` with the
clause that voids it (the kind's clause for such an act, e.g. a transfer against the right, or
else the clause of the refusal the replay gave); one refused before and applied now is restored;
one that took another transition has changed. A timer whose effect the replay no longer gives
(its deadline was met by the late act) is withdrawn. Each is an item for the company to
reconcile (the share register must not show a void transfer as valid), carried as an event.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pydantic import Field

from workflows.kernel import Event, Refused
from workflows.kit.payload import Payload, Text
from workflows.kit.replay import Run
from workflows.kit.timeline import Record, Timeline, label, summary


class ReconcileItem(Payload):
    """The company marks a reconciliation item of the workflow reconciled (its records, e.g.
    the share register, no longer show the void fact as valid)."""

    item: Text = Field(description="the item's id in the workflow, e.g. R1")
    note: str | None = Field(default=None, description="what was done")


def close_item(
    tl: Timeline, item_id: str, *, by: Record, note: str, now: datetime, clause: str
) -> Event:
    """Mark the open item ``item_id`` reconciled; Refused (409) if there is none open."""
    found = next((i for i in tl.reconciliation if i["id"] == item_id), None)
    if found is None:
        known = ", ".join(i["id"] for i in tl.reconciliation) or "none"
        raise Refused(
            clause, f"no reconciliation item {item_id} in this workflow (its items: {known})"
        )
    if found["status"] != "open":
        raise Refused(clause, f"item {item_id} was reconciled already", "wrong_state")
    found["status"] = "reconciled"
    found["reconciled"] = {"by": by, "at": now.isoformat(), "note": note}
    return Event(
        "reconciliation_closed", {"item": item_id, "fact": found["fact"], "by": by, "note": note}
    )


#: The kind's clause voiding an act of this command when contradicted, if it names one.
VoidClause = Callable[[str], str | None]


def _item(
    tl: Timeline, kind: str, fact: Record, clause: str, reason: str, by: Record, now: datetime
) -> Record:
    return {
        "id": f"R{len(tl.reconciliation) + 1}",
        "kind": kind,
        "fact": fact,
        "clause": clause,
        "reason": reason,
        "contradicted_by": summary(by),
        "raised_at": now.isoformat(),
        "status": "open",
    }


def reconcile(
    tl: Timeline, run: Run, new: Record, void_clause: VoidClause, now: datetime
) -> list[Event]:
    """Mark the acts and timers ``run`` contradicts, raise their items; the events to emit."""
    events: list[Event] = []

    def raise_item(kind: str, fact: Record, clause: str, reason: str) -> None:
        item = _item(tl, kind, fact, clause, reason, new, now)
        tl.reconciliation.append(item)
        if kind in ("void", "withdrawn"):
            events.append(
                Event(
                    "fact_voided",
                    {k: item[k] for k in ("fact", "clause", "reason", "contradicted_by")},
                )
            )
        events.append(Event("reconciliation_raised", dict(item)))

    for act in tl.acts:
        if act is new:
            continue
        before: Any = act.get("transition")
        after = run.outcomes.get(act["id"])
        if before is not None and after is None:
            refused = run.refusals[act["id"]]
            clause = void_clause(label(act)) or refused.rule
            act["void"] = {"clause": clause, "reason": refused.reason, "by": new["id"]}
            reason = (
                f"{label(act).replace('_', ' ')} (effective {act['effective_at']}) cannot stand "
                f"once {label(new).replace('_', ' ')} (effective {new['effective_at']}) is "
                f"recorded: {refused.reason}"
            )
            raise_item("void", summary(act), clause, reason)
        elif before is None and after is not None:
            was = act.pop("void", None) or {}
            raise_item(
                "restored",
                summary(act),
                was.get("clause", ""),
                f"{label(act).replace('_', ' ')} stands again",
            )
        elif before is not None and before != after:
            raise_item(
                "changed",
                summary(act),
                "",
                f"{label(act).replace('_', ' ')} now takes {after} instead of {before}",
            )
        act["transition"] = after

    now_fired = {(f["name"], f["due_at"]): f for f in run.fired}
    for f in tl.fired:
        if not f.get("transition"):
            continue
        again = now_fired.get((f["name"], f["due_at"]))
        if again is None or again.get("transition") != f["transition"]:
            fact = {"timer": f["name"], "due_at": f["due_at"], "transition": f["transition"]}
            raise_item(
                "withdrawn",
                fact,
                f["clause"],
                f"the passing of {f['name'].replace('_', ' ')} ({f['due_at']}) no longer has "
                f"its effect ({f['transition'].replace('_', ' ')}): "
                f"{label(new).replace('_', ' ')} took effect {new['effective_at']}",
            )
    return events
