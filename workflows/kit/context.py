"""What one decision of any kind works with: the data being changed, the terms, the message.

A kind subclasses ``Context`` to add its terms section and its own helpers; everything here
reads only what every kind has: the company calendar, the notice rules, deadlines in
``data["deadlines"]`` and the notice or time a command's payload gives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from workflows.calendar import CompanyCalendar, Deadline
from workflows.kernel import Actor, Party, Refused, SetTimer
from workflows.kit.chart import Chart
from workflows.kit.payload import NoticeGiven
from workflows.kit.step import Step
from workflows.notices import EffectiveNotice, effective_time
from workflows.terms import Terms
from workflows.terms.base import Window

#: The notices a decision has read: (notice kind, the payload's notice object) → the notice and
#: its effective time. Keyed by the object itself (payloads are frozen), so that the checks of
#: an act and its rule, run on the same payload, compute its effective time once.
NoticesRead = dict[tuple[str, int], tuple[NoticeGiven, EffectiveNotice]]


class Checked(NamedTuple):
    """What the checks on entry made of a command, handed to its rule when the act is applied
    at once, to the state and data it was checked on (nothing is read twice)."""

    name: str
    cmd: Any
    notices: NoticesRead


@dataclass
class Context:
    state: str
    data: dict[str, Any]
    terms: Terms
    now: datetime
    command: str = ""
    actor: Actor | None = None
    #: The kind's chart, set by the kit: rules ask it where an act is legal.
    chart: Chart | None = None
    #: The id of the act being decided (its message id), set by the kit: an act another
    #: workflow records (a transfer in the share register) is named by it, there and when void.
    act_id: str = ""
    #: The notices read so far, shared with the rule of an act checked on entry (``Checked``).
    notices_read: NoticesRead = field(default_factory=dict, repr=False, compare=False)
    #: The company calendar, read once (the terms of a context never change).
    _calendar: CompanyCalendar | None = field(default=None, init=False, repr=False, compare=False)
    #: name → (the recorded deadline, read): a rule and its guards read one deadline several
    #: times, and setting it records a new dict (so the one read is known by identity).
    _deadlines: dict[str, tuple[Any, Deadline]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def legal_in(self, *events: str) -> frozenset[str]:
        """The states where any of ``events`` is on the chart."""
        assert self.chart is not None
        return self.chart.sources(*events)

    def describe(self, state: str | None = None) -> str:
        """``state`` (default: the current one) as a user would say it."""
        assert self.chart is not None
        return self.chart.describe(self.state if state is None else state)

    @property
    def clause(self) -> str:
        """The clause that grants what this kind runs; cited when no narrower rule applies."""
        raise NotImplementedError

    @property
    def cal(self) -> CompanyCalendar:
        found = self._calendar
        if found is None:
            found = self._calendar = self.terms.company_calendar()
        return found

    @property
    def party(self) -> Party:
        return self.actor.party if self.actor else Party.SYSTEM

    def actor_record(self) -> dict[str, str]:
        a = self.actor
        return {
            "party": str(self.party),
            "name": a.name if a else "",
            "reference": a.reference if a else "",
        }

    # -- typed reads of the data (stored as JSON: times as ISO 8601 text, amounts as text) --
    def recorded(self, *path: str | int) -> Any:
        """The value at ``path`` in the data (``"transfer_notice", "effective_at"``)."""
        node: Any = self.data
        for part in path:
            node = node[part]
        return node

    def instant(self, *path: str | int) -> datetime:
        """The time recorded at ``path``."""
        return datetime.fromisoformat(self.recorded(*path))

    def day(self, *path: str | int) -> date:
        """The date recorded at ``path``."""
        return date.fromisoformat(self.recorded(*path))

    def amount(self, *path: str | int) -> Decimal | None:
        """The amount recorded at ``path``, or None where the record has none."""
        *parent, key = path
        value = self.recorded(*parent).get(key)
        return None if value is None else Decimal(value)

    # -- deadlines ------------------------------------------------------------------------
    def deadline(self, name: str) -> Deadline | None:
        raw = self.data.get("deadlines", {}).get(name)
        if not raw:
            return None
        seen = self._deadlines.get(name)
        if seen is not None and seen[0] is raw:
            return seen[1]
        found = Deadline.from_dict(raw)
        self._deadlines[name] = (raw, found)
        return found

    def must_deadline(self, name: str) -> Deadline:
        found = self.deadline(name)
        if found is None:  # a rule ran in a state whose deadline was never computed
            raise Refused(self.clause, f"no {name.replace('_', ' ')} on record", "wrong_state")
        return found

    def set_timer(self, step: Step, name: str, d: Deadline, party: Party, action: str) -> None:
        self.data.setdefault("deadlines", {})[name] = d.as_dict()
        step.set_timers.append(SetTimer(name, d, party, action))

    def window_end(self, window: Window, start: datetime, start_text: str = "") -> Deadline:
        """End of ``window`` from ``start``; ``start_text`` says how ``start`` came about."""
        label = window.label or window.runs_from.replace("_", " ")
        d = self.cal.days_after(start, window.days, clause=window.clause, what=label)
        return Deadline(
            d.at, d.clause, f"{d.derivation} ({start_text})" if start_text else d.derivation
        )

    def late(self, rule: str, what: str, when: datetime, d: Deadline) -> Refused:
        return Refused(
            rule,
            f"{what} took effect {self.cal.fmt(when)}, after the deadline {self.cal.fmt(d.at)} "
            f"({d.derivation})",
            "late",
        )

    # -- payload --------------------------------------------------------------------------
    def notice(self, kind: str, rule: str, given: NoticeGiven) -> EffectiveNotice:
        """The effective time of the notice ``given`` (how and when it was given).

        Read once per payload: the context's time and terms are those of the act, and only a
        notice read without refusal is kept (a refusal is raised again where it applies)."""
        key = (kind, id(given))
        seen = self.notices_read.get(key)
        if seen is not None and seen[0] is given:
            return seen[1]
        for name in ("delivered_at", "deposited_at"):
            when = getattr(given, name)
            if when is not None and when > self.now:
                raise Refused(
                    rule,
                    f"payload.notice.{name} {when.isoformat()} is in the future",
                    "invalid_payload",
                )
        effective = effective_time(
            kind,
            given.method,
            self.terms,
            delivered_at=given.delivered_at,
            deposited_at=given.deposited_at,
        )
        self.notices_read[key] = (given, effective)
        return effective

    def fact_time(self, key: str, when: datetime, rule: str) -> datetime:
        """``when``, a past instant from the payload (when a sale, payment or agreement
        happened), refused if it is in the future."""
        if when > self.now:
            raise Refused(
                rule, f"payload.{key} {when.isoformat()} is in the future", "invalid_payload"
            )
        return when


def on_time(when: datetime, d: Deadline) -> bool:
    return not d.passed(when)
