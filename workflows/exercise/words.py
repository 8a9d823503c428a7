"""The exercise's states and events in a stock administrator's words (``workflows.kit.words``):
for the demo's timeline, a dashboard, a notice. ``{notice_name}`` is the agreement's own name for
the notice (FMP §4(a)(i): "Notice of Exercise (Exhibit A)"; RD ISO ¶4(b): a written notice)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.kit.words import fill, shares

STATE_SENTENCES = {
    "new": "No notice of exercise has been given yet.",
    "payment_review": "The exercise waits for the Company's decision on the form of payment.",
    "awaiting_payment": "The payment tendered was refused: the exercise waits for another.",
    "pending_delivery": "The exercise was accepted; the shares are delivered once the "
    "conditions of delivery are met.",
    "election_pending": "The exercise waits for the Board's decision on the withholding "
    "Election, or for the Tax Date.",
    "completed": "The exercise is complete: the certificate was issued.",
    "rejected": "The exercise was rejected.",
    "withdrawn": "The exercise was withdrawn.",
}

EVENT_SENTENCES = {
    "exercise_notice_received": "The Company received {exercised_by[name]}'s {notice_name} for "
    "{shares:,} shares ({exercisable:,} exercisable), at an aggregate price of "
    "${aggregate_price}.",
    "exercise_accepted": "The notice and its payment ({paid}) were accepted: full payment of "
    "${payment[due]} was enclosed.",
    "payment_review_opened": "The form of payment tendered needs the Company's decision "
    "({clauses}).",
    "payment_accepted": "The Company accepted the form of payment tendered.",
    "payment_refused": "The Company refused the form of payment tendered ({clauses}): another "
    "payment is owed.",
    "withholding_required": "The Company requires ${amount} of withholding tax to be paid as a "
    "condition of delivery, the tax determined on the Tax Date {tax_date} ({clause}).",
    "withholding_remitted": "${amount} of withholding tax was paid (${remitted} of ${due}).",
    "withholding_election_made": "The optionee delivered an Election to pay {portion} of the "
    "withholding tax by {method}, {basis}: it is valid once the Board approves it.",
    "withholding_election_approved": "The Board approved the Election ({clause}).",
    "withholding_election_disapproved": "The Board disapproved the Election ({clause}): the tax "
    "is to be paid another way.",
    "withholding_election_deemed_approved": "The Board did not act on the Election by the Tax "
    "Date: it is deemed approved ({clause}).",
    "investment_letter_requested": "The Company asked for a letter of investment intent "
    "({clause}).",
    "investment_letter_delivered": "The optionee delivered the letter of investment intent.",
    "escrow_required": "The Company requires the certificate deposited with {escrow_agent} "
    "({clause}).",
    "escrow_agreement_delivered": "The optionee delivered the executed escrow agreement.",
    "certificate_issued": "Certificate {certificate[number]} was issued in the name of "
    "{certificate[registered_in]} for {issued} shares{withheld}{fraction}, with {legends}.",
    "disposition_watch_started": "A disposition of these shares on or before {watch[ends_on]} "
    "must be reported to the {watch[notify]} ({watch[derivation]}).",
    "exercise_completed": "The exercise is complete: {shares:,} shares were bought under the "
    "option.",
    "exercise_rejected": "The exercise was rejected: {reason} ({clause}).",
    "exercise_withdrawn": "The exercise was withdrawn ({clause}).",
    "termination_recorded": "The exercise recorded the optionee's termination of service on "
    "{termination[terminated_on]} ({termination[clause]}).",
}

_FORMS = {
    "cash": "cash",
    "check": "check",
    "cash_equivalent": "cash equivalent",
    "salary_debt_cancellation": "cancellation of accrued salary",
    "shares": "shares tendered",
    "immediate_sales_proceeds": "sale proceeds",
    "promissory_note": "promissory note",
}
_METHODS = {"withhold_shares": "having shares withheld", "tender_shares": "tendering shares"}
_BASES = {"flat": "at the flat rate for supplemental wages", "w4": "as the form W-4 sets it"}


def _certificate(c: Mapping[str, Any]) -> dict[str, str]:
    count = c["shares"]
    withheld = shares(count.get("withheld") or 0)
    fraction = count.get("fraction") or {}
    return {
        "issued": shares(count["issued"]),
        "withheld": (
            f" ({shares(count['purchased'])} bought, {withheld} withheld for the tax)"
            if withheld != "0" else ""
        ),
        "fraction": (
            f"; the fraction of {fraction['shares']} share paid in cash, ${fraction['cash']}"
            if fraction.get("cash") else ""
        ),
        "legends": _legends(c["legends"]),
    }  # fmt: skip


def _legends(legends: list[Mapping[str, Any]]) -> str:
    clauses = list(dict.fromkeys(str(legend["clause"]) for legend in legends))
    if not clauses:
        return "no legend"
    return f"the legend{'s' if len(clauses) > 1 else ''} of {'; '.join(clauses)}"


def _election(e: Mapping[str, Any]) -> dict[str, str]:
    return {
        "portion": "all" if e["portion"] == "all" else f"{e['percentage']}%",
        "method": _METHODS.get(e["method"], e["method"]),
        "basis": _BASES.get(e["rate_basis"], e["rate_basis"]),
    }


def event_sentence(event_type: str, payload: Mapping[str, Any], notice_name: str) -> str:
    fields: dict[str, Any] = {**payload, "notice_name": notice_name}
    try:
        if event_type == "exercise_accepted":
            parts = payload["payment"]["parts"]
            fields["paid"] = ", ".join(f"{_FORMS.get(p['form'], p['form'])} ${p['value']}"
                                       for p in parts)  # fmt: skip
        elif event_type in ("payment_review_opened", "payment_refused"):
            found = payload.get("forms") or [{"clause": c} for c in payload.get("clauses") or []]
            fields["clauses"] = "; ".join(dict.fromkeys(str(f["clause"]) for f in found))
        elif event_type == "certificate_issued":
            fields.update(_certificate(payload["certificate"]))
        elif event_type == "withholding_election_made":
            fields.update(_election(payload["election"]))
    except (KeyError, TypeError):
        pass  # ``fill`` then says the event plainly
    return fill(EVENT_SENTENCES, event_type, fields)


def state_sentence(state: str) -> str:
    return STATE_SENTENCES.get(state, f"The exercise is at {state.replace('_', ' ')}.")
