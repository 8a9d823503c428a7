"""What one ROFR decision works with: the data being changed, the terms, and the step it takes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from workflows.calendar import CompanyCalendar, Deadline
from workflows.kernel import Actor, Event, Party, Refused, SetTimer
from workflows.notices import EffectiveNotice, effective_time
from workflows.rofr import payload as p
from workflows.terms import Terms
from workflows.terms.schema import RofrTerms, Window

# Timer names (unique within a workflow; setting one again replaces it).
ELECTION = "election_deadline"
OWNER_CHOICE = "owner_choice_deadline"
VALUE_AGREEMENT = "value_agreement_deadline"
JOINT_APPRAISER = "joint_appraiser_deadline"
CLOSING = "closing_deadline"
ESCROW_DELIVERY = "escrow_delivery_deadline"
SALE_WINDOW = "sale_window_end"
ALL_TIMERS = (
    ELECTION,
    OWNER_CHOICE,
    VALUE_AGREEMENT,
    JOINT_APPRAISER,
    CLOSING,
    ESCROW_DELIVERY,
    SALE_WINDOW,
)


@dataclass
class Step:
    """The outcome of one rule: the machine transition it takes and what it records."""

    transition: str
    events: list[Event] = field(default_factory=list)
    set_timers: list[SetTimer] = field(default_factory=list)
    cancel_timers: list[str] = field(default_factory=list)

    def event(self, type_: str, **payload: Any) -> None:
        self.events.append(Event(type_, payload))


@dataclass
class Ctx:
    state: str
    data: dict[str, Any]
    terms: Terms
    now: datetime
    command: str = ""
    actor: Actor | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)

    @property
    def rofr(self) -> RofrTerms:
        return self.terms.rofr

    @property
    def cal(self) -> CompanyCalendar:
        return self.terms.company_calendar()

    @property
    def party(self) -> Party:
        return self.actor.party if self.actor else Party.SYSTEM

    def owner_notice_party(self) -> Party:
        """Who receives a notice the company owes the owner.

        RD ISO ¶12(c): while the shares are in escrow, the notices required to be given to the
        Optionee (and the payments) are given to the escrow agent instead.
        """
        escrow = self.rofr.escrow
        if self.data.get("escrow") and escrow and escrow.notices_to_escrow_agent.value:
            return Party.ESCROW_AGENT
        return Party.OWNER

    def actor_record(self) -> dict[str, str]:
        a = self.actor
        return {
            "party": str(self.party),
            "name": a.name if a else "",
            "reference": a.reference if a else "",
        }

    # -- deadlines ------------------------------------------------------------------------
    def deadline(self, name: str) -> Deadline | None:
        raw = self.data.get("deadlines", {}).get(name)
        return Deadline.from_dict(raw) if raw else None

    def must_deadline(self, name: str) -> Deadline:
        found = self.deadline(name)
        if found is None:  # a rule ran in a state whose deadline was never computed
            raise Refused(self.rofr.clause, f"no {name.replace('_', ' ')} on record", "wrong_state")
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

    # -- payload --------------------------------------------------------------------------
    def notice(self, kind: str, rule: str) -> EffectiveNotice:
        """The effective time of the notice described by ``payload.notice``."""
        raw = self.payload.get("notice")
        if not isinstance(raw, Mapping):
            raise Refused(
                rule,
                f"payload.notice is required: how and when the {kind.replace('_', ' ')} was given",
                "invalid_payload",
            )
        method = raw.get("method")
        if not isinstance(method, str):
            raise Refused(rule, "payload.notice.method is required", "invalid_payload")
        delivered = p.optional_instant(raw, "delivered_at", rule, "payload.notice.")
        deposited = p.optional_instant(raw, "deposited_at", rule, "payload.notice.")
        for name, when in (("delivered_at", delivered), ("deposited_at", deposited)):
            if when is not None and when > self.now:
                raise Refused(
                    rule,
                    f"payload.notice.{name} {when.isoformat()} is in the future",
                    "invalid_payload",
                )
        return effective_time(
            kind, method, self.terms, delivered_at=delivered, deposited_at=deposited
        )

    def fact_time(self, key: str, rule: str) -> datetime:
        """A past instant from the payload (when a sale, payment or agreement happened)."""
        when = p.instant(self.payload, key, rule)
        if when > self.now:
            raise Refused(
                rule, f"payload.{key} {when.isoformat()} is in the future", "invalid_payload"
            )
        return when

    def late(self, rule: str, what: str, when: datetime, d: Deadline) -> Refused:
        return Refused(
            rule,
            f"{what} took effect {self.cal.fmt(when)}, after the deadline {self.cal.fmt(d.at)} "
            f"({d.derivation})",
            "late",
        )


def on_time(when: datetime, d: Deadline) -> bool:
    return not d.passed(when)
