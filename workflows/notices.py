"""When a notice takes effect (docs/rules.md §2), computed from the terms' notice rules.

FMP §16(b): a notice is effective when delivered, or, if sent by first-class certified mail,
return receipt requested, 72 hours after deposit in the mail. RD ISO/NSO ¶11 run every window
from *delivery* of the notice. Every deadline runs from the effective time computed here, never
from the time the notice was entered into the system.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from workflows.kernel import Party, Refused
from workflows.kit.clauses import enforces
from workflows.terms.schema import Effectiveness, NoticeMethod, Terms


@dataclass(frozen=True)
class EffectiveNotice:
    """A notice's effective time, with the clause and the arithmetic behind it."""

    kind: str
    method: NoticeMethod
    at: datetime
    clause: str
    derivation: str
    delivered_at: datetime | None = None
    deposited_at: datetime | None = None

    def record(self, from_party: Party | str, to_party: Party | str) -> dict[str, Any]:
        """The ``notice`` dict carried by events: who gave it to whom, how, effective when."""
        rec: dict[str, Any] = {
            "kind": self.kind,
            "from_party": str(from_party),
            "to_party": str(to_party),
            "method": self.method.value,
            "effective_at": self.at.isoformat(),
            "clause": self.clause,
            "derivation": self.derivation,
        }
        if self.delivered_at is not None:
            rec["delivered_at"] = self.delivered_at.isoformat()
        if self.deposited_at is not None:
            rec["deposited_at"] = self.deposited_at.isoformat()
        return rec


METHOD_WORDS = {
    NoticeMethod.PERSONAL: "in person",
    NoticeMethod.COURIER: "by courier",
    NoticeMethod.FAX: "by fax",
    NoticeMethod.EMAIL: "by email",
    NoticeMethod.FIRST_CLASS_MAIL: "by first-class mail",
    NoticeMethod.CERTIFIED_MAIL: "by certified mail",
    NoticeMethod.REGISTERED_MAIL: "by registered mail",
}


def _after(when: datetime, hours: int, zone: tzinfo) -> datetime:
    # Elapsed hours, not wall-clock hours: adding to an aware local time would skip or repeat
    # the hour a daylight-saving change adds or removes.
    return (when.astimezone(UTC) + timedelta(hours=hours)).astimezone(zone)


def allowed_methods(kind: str, terms: Terms) -> list[NoticeMethod]:
    limited = terms.notices.methods_by_kind.get(kind)
    return list(limited.value) if limited else list(terms.notices.methods)


@enforces("notices")
def effective_time(
    kind: str,
    method: str,
    terms: Terms,
    *,
    delivered_at: datetime | None = None,
    deposited_at: datetime | None = None,
) -> EffectiveNotice:
    """The effective time of a notice of ``kind`` given by ``method``; Refused if not allowed."""
    rules = terms.notices
    allowed = allowed_methods(kind, terms)
    limit = rules.methods_by_kind.get(kind)
    rule_clause = limit.clause if limit else rules.in_writing.clause
    if method not in allowed:  # a StrEnum member equals its text
        names = ", ".join(f"{METHOD_WORDS.get(m, m.value)} ({m.value})" for m in allowed)
        raise Refused(
            rule_clause,
            f"a {kind.replace('_', ' ')} may not be given by {method!r} under these terms; "
            f"it may be given: {names}",
        )
    how = NoticeMethod(method)
    rule = rules.methods[how]
    cal = terms.company_calendar()
    for name, value in (("delivered_at", delivered_at), ("deposited_at", deposited_at)):
        if value is not None and value.tzinfo is None:
            raise Refused(rule.clause, f"{name} must carry its time zone", "invalid_payload")
    label = METHOD_WORDS.get(how, how.value.replace("_", " "))
    if rule.effective is Effectiveness.AFTER_DEPOSIT:
        if deposited_at is None:
            raise Refused(
                rule.clause,
                f"{how.value} is effective {rule.delay_hours}h after deposit: give deposited_at",
                "invalid_payload",
            )
        at = _after(deposited_at, rule.delay_hours, cal.zone)
        why = f"deposited {label} {cal.fmt(deposited_at)} + {rule.delay_hours} hours"
    else:
        if delivered_at is None:
            raise Refused(
                rule.clause,
                f"{how.value} is effective when delivered: give delivered_at",
                "invalid_payload",
            )
        at = _after(delivered_at, rule.delay_hours, cal.zone)
        why = f"delivered {label} {cal.fmt(delivered_at)}"
        if rule.delay_hours:
            why += f" + {rule.delay_hours} hours"
    if at != (delivered_at if rule.effective is Effectiveness.ON_DELIVERY else None):
        why += f" → {cal.fmt(at)}"
    why += f", {rule.clause}"
    return EffectiveNotice(kind, how, at, rule.clause, why, delivered_at, deposited_at)
