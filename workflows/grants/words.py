"""The grant's states and events, the registers it reads and its vesting, in a stock
administrator's words (``workflows.kit.words``): for the demo's timeline, a dashboard, a notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.kit.words import fill, shares

#: Who acts in an option's workflows (grant, exercise, termination): the owner is the optionee.
PARTIES = {
    "owner": "the optionee",
    "company": "the Company",
    "board": "the Board",
    "escrow_agent": "the escrow agent",
    "system": "equityflow",
}

STATE_SENTENCES = {
    "new": "No option is granted yet.",
    "outstanding": "The option stays on the Company's books until its expiration date.",
    "expired": "The option expired at the end of its term.",
}

EVENT_SENTENCES = {
    "option_granted": "The Board granted {optionee} {kind} option on {shares:,} shares at "
    "${exercise_price} a share, dated {grant_date} and expiring {expiration_date}; it becomes "
    "exercisable {schedule}.{fmv_note}",
    "leave_recorded": "A leave of absence from {leave[starts_on]} was recorded ({clause}).",
    "termination_recorded": "The grant recorded the end of service on {terminated_on}: "
    "{returned} back in the plan's pool.",
    "exercised_shares_recorded": "The grant recorded {shares:,} shares acquired on exercise "
    "(certificate {certificate}): {exercised:,} exercised in all.",
    "option_expired": "The option expired at the end of its term ({deadline[clause]}).",
}

#: The valuation and plan registers (FMP §4(a)(ii), RD Plan ¶4–¶6), as the Board records them.
REGISTER_SENTENCES = {
    "valuation": "The valuation register records the Board's determination: fair market value "
    "${price_per_share} a share from {effective_on}, by {method} ({resolution}).",
    "plan": "The plan register records the {plan} plan{adopted}.",
}

VESTED = "{vested} of {shares} shares have vested; {exercisable} may be exercised."

_KINDS = {"nso": "a non-statutory", "iso": "an incentive stock"}
_METHODS = {
    "closing_price": "the last closing price",
    "mean_of_bid_and_ask": "the mean of the bid and asked prices",
    "board_good_faith": "the Board's good faith",
}


def _schedule(vesting: Mapping[str, Any]) -> str:
    if vesting.get("kind") == "installments":
        parts = [f"{shares(i['shares'])} on {i['on']}" for i in vesting["installments"]]
        return f"in installments of {', '.join(parts)} ({vesting['clause']})"
    return (
        f"by the Vested Ratio, 1/{vesting['denominator']} on the Initial Vesting Date "
        f"{vesting['initial_vesting_date']} and 1/{vesting['denominator']} a full month after "
        f"({vesting['clause']})"
    )


def _fmv_note(fmv: Mapping[str, Any] | None) -> str:
    if not fmv:
        return ""
    return (
        f" The Board's fair market value in force was ${fmv['price_per_share']} a share "
        f"({fmv['resolution']}, from {fmv['effective_on']})."
    )


def _returned(p: Mapping[str, Any]) -> str:
    back = [f"{shares(p['forfeited'])} unvested shares"]
    if p.get("expired"):
        back.append(f"{shares(p['expired'])} unexercised shares that expired")
    return " and ".join(back)


def event_sentence(event_type: str, payload: Mapping[str, Any]) -> str:
    fields = dict(payload)
    if event_type == "option_granted":
        fields.update(
            kind=_KINDS.get(str(payload.get("option_type")), "a stock"),
            schedule=_schedule(payload.get("vesting") or {}),
            fmv_note=_fmv_note(payload.get("fmv")),
        )
    elif event_type == "termination_recorded":
        fields["returned"] = _returned(payload)
    return fill(EVENT_SENTENCES, event_type, fields)


def checks(event_type: str, payload: Mapping[str, Any]) -> list[str]:
    """How a grant passed its plan's checks (RD Plan ¶4–¶7), each with its clause: the lines an
    administrator reads under the grant, as a deadline's derivation under the deadline."""
    if event_type != "option_granted":
        return []
    return [f"{c['clause']}: {c['text']}" for c in payload.get("checks") or []]


def register_sentence(register: str, entry: Mapping[str, Any]) -> str:
    fields = dict(entry)
    if register == "valuation":
        fields["method"] = _METHODS.get(str(entry.get("method")), entry.get("method"))
    if register == "plan":
        dates = [
            f"adopted by the Board on {entry['board_adopted_on']}"
            if entry.get("board_adopted_on") else "",
            f"approved by the shareholders on {entry['shareholders_approved_on']}"
            if entry.get("shareholders_approved_on") else "",
        ]  # fmt: skip
        said = " and ".join(d for d in dates if d)
        fields["adopted"] = f", {said}" if said else ""
    return fill(REGISTER_SENTENCES, register, fields)


def vested_sentence(vested: int, total: int, exercisable: int) -> str:
    counts = {"vested": vested, "shares": total, "exercisable": exercisable}
    return VESTED.format(**{k: shares(v) for k, v in counts.items()})


def state_sentence(state: str) -> str:
    return STATE_SENTENCES.get(state, f"The option is {state.replace('_', ' ')}.")
