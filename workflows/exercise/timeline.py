"""When each act of an exercise took effect, and how acts at the same instant are ordered.

The notice of exercise takes effect as the notice rules say (FMP §16(b); RD ISO ¶4(b), ¶17) and
is judged against the grant on that day (FMP §3(a), §5; RD ISO ¶4(a), ¶7); the withholding
Election likewise (FMP §13(c)). Every other act carries the time it happened: the Board's or
Company's decision on a payment (``decided_at``, FMP §4(a)(ii), RD ISO ¶4(c)(iii)), a payment
(``paid_at``), the Board's decision on the Election (``decided_at``: on or before the Tax Date
it stands, FMP §13(c)(iii)), the letters and escrow (``requested_at``, ``delivered_at``,
``required_at``), the certificate (``issued_at``), a rejection or withdrawal. The Company's
requirement of withholding takes effect at its ``required_at`` when given, else with the exercise
itself (the notice's effective time; ``tax_date`` is when the tax is determined, not when it was
required): FMP §13(a) and RD ISO ¶4(d) attach it to the delivery of the shares "upon exercise",
so an Election (FMP §13(b)) given after the notice answers it, whenever the requirement was
entered (judgment call: neither agreement dates the requirement).

At one instant (a judgment call: the agreements do not order acts within an instant) the notice
comes first, then a payment and the decision on it, then the conditions of delivery in the order
each builds on the one before (the requirement, then what answers it); a rejection or a
withdrawal before the certificate, which issues last: FMP §4(b) and RD ISO ¶4(e) deliver the
shares only once every condition recorded by then is met. The termination of service, as the
termination workflow reports it, takes effect when the termination did (``effective_at``); at
the very instant of a notice it comes after it (FMP §5(a), RD ISO ¶7(a) limit exercise *after*
employment ended).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kit.days import first_of
from workflows.kit.effective import EffectiveTime, by_date, by_notice


def _with_the_exercise(ctx: Any, cmd: Any) -> datetime:
    """When the notice of exercise took effect (the requirement attaches to it)."""
    notice = ctx.data.get("notice") or {}
    at = notice.get("effective_at")
    return datetime.fromisoformat(at) if at else ctx.now


EFFECTIVE: dict[str, EffectiveTime] = {
    "deliver_exercise_notice": by_notice("exercise_notice"),
    "accept_payment": by_date("decided_at"),
    "refuse_payment": by_date("decided_at"),
    "tender_payment": by_date("paid_at"),
    "require_withholding": first_of(by_date("required_at"), _with_the_exercise),
    "remit_withholding": by_date("paid_at"),
    "elect_withholding": by_notice("withholding_election"),
    "approve_election": by_date("decided_at"),
    "disapprove_election": by_date("decided_at"),
    "request_investment_letter": by_date("requested_at"),
    "deliver_investment_letter": by_date("delivered_at"),
    "require_escrow": by_date("required_at"),
    "deliver_escrow_agreement": by_date("delivered_at"),
    "issue_certificate": by_date("issued_at"),
    "reject_exercise": by_date("rejected_at"),
    "withdraw_exercise": by_date("withdrawn_at"),
    "record_termination": by_date("effective_at"),
}

RANKS: dict[str, int] = {
    "deliver_exercise_notice": 0,
    "record_termination": 5,
    "tender_payment": 10,
    "accept_payment": 20,
    "refuse_payment": 21,
    "require_withholding": 30,
    "remit_withholding": 31,
    "elect_withholding": 32,
    "approve_election": 33,
    "disapprove_election": 34,
    "request_investment_letter": 40,
    "deliver_investment_letter": 41,
    "require_escrow": 42,
    "deliver_escrow_agreement": 43,
    "withdraw_exercise": 80,
    "reject_exercise": 81,
    "issue_certificate": 90,
}
