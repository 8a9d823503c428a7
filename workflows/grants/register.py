"""A grant's row as the facts other workflows read (``GrantFacts``): the engine's register view
joins it with its exercises' claims and its termination's window."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from workflows.grants.facts import Claim, GrantFacts, Status

#: The exercise states that hold a claim on the grant: accepted, under way or completed (a
#: rejected or withdrawn exercise holds none; a new one has no notice yet).
RELEASED = frozenset({"", "new", "rejected", "withdrawn"})


def facts_of(
    grant_id: str,
    data: Mapping[str, Any],
    *,
    state: str = "outstanding",
    exercised: int = 0,
    service_ended_on: date | None = None,
    window_ends_at: datetime | None = None,
    window_derivation: str | None = None,
    claims: list[Claim] | None = None,
) -> GrantFacts:
    status: Status = "expired" if state == "expired" else "outstanding"
    if status == "outstanding" and service_ended_on is not None:
        status = "terminated"
    return GrantFacts.model_validate(
        {
            "grant_id": grant_id,
            "optionee": data["optionee"],
            "optionee_name": data.get("optionee_name"),
            "service": data.get("service"),
            "plan": data["plan"],
            "option_type": data["option_type"],
            "shares": data["shares"],
            "exercised": exercised,
            "exercise_price": data["exercise_price"],
            "grant_date": data["grant_date"],
            "expiration_date": data["expiration_date"],
            "expires_at": data["expires_at"],
            "vesting": data["vesting"],
            "initial_exercise_date": data.get("initial_exercise_date"),
            "leaves": data.get("leaves") or [],
            "leave_limit_days": data.get("leave_limit_days"),
            "leave_credit_by_designation": bool(data.get("leave_credit_by_designation")),
            "leave_clause": data.get("leave_clause") or "",
            "service_ended_on": service_ended_on,
            "window_ends_at": window_ends_at,
            "window_derivation": window_derivation,
            "status": status,
            "claims": claims or [],
        }
    )


def shares_committed(state: str, data: Mapping[str, Any]) -> int:
    """The shares a grant holds of its plan's reserve (RD Plan ¶4): all of them while
    outstanding, less the unvested part forfeited and the unexercised part expired at its
    termination; once expired, only the shares exercised. (The register view sums the same
    rule in SQL over a plan's grants.)"""
    if state in ("", "new"):
        return 0
    if state == "expired":
        return int(data.get("exercised") or 0)
    ended = data.get("termination") or {}
    return int(data["shares"]) - int(ended.get("forfeited") or 0) - int(ended.get("expired") or 0)


def claim_of(exercise_id: str, state: str, data: Mapping[str, Any]) -> Claim | None:
    """An exercise's claim on its grant, from its row (``data.claim``, written when its notice
    was accepted): None once rejected or withdrawn, or before any notice."""
    claim = data.get("claim")
    if state in RELEASED or not claim:
        return None
    return Claim(exercise=exercise_id, shares=int(claim["shares"]),
                 on=date.fromisoformat(claim["on"]), exercised=state == "completed")  # fmt: skip


def exercised_shares(data: Mapping[str, Any], claims: list[Claim], reader: str) -> int:
    """Shares acquired on exercise: those of the exercises done, and any the grant recorded of
    an exercise not among them (``record_exercised_shares``); never the reader's own."""
    claimed = {c.exercise for c in claims}
    done = sum(c.shares for c in claims if c.exercised)
    recorded = data.get("exercises") or {}
    done += sum(int(r["shares"]) for e, r in recorded.items() if e != reader and e not in claimed)
    legacy = 0 if recorded else int(data.get("exercised") or 0)  # a count kept without ids
    return done + legacy
