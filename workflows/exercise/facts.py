"""What an exercise reads besides its own acts.

The grant's facts (shares, vested and exercisable by day, the claims of its other exercises,
the expiration, the post-termination window) are the grant's own (``GrantFacts``), loaded by the
engine's register view under the grant's lock (``reads`` names ``GrantOf``): the exercise never
takes them from its sender. What the Company knows of the circumstances of one exercise comes
with the notice (``Circumstances``): the FMV determination in force, the securities-law
clearance, registration, S-corporation status, whether the optionee is living, and whether the
shares stay subject to the first refusal.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import Field

from workflows.grants.facts import GrantFacts
from workflows.kit.payload import Amount, Flag, Payload, Text
from workflows.terms.exercise import SecuritiesBasis


class FmvDetermination(Payload):
    """A Board determination of fair market value (FMP §4(a)(ii); RD Plan ¶6(A), ¶6(C))."""

    price_per_share: Amount
    effective_on: date
    method: Literal["closing_price", "mean_of_bid_and_ask", "board_good_faith"] = Field(
        description="FMP §4(a)(ii)(1)-(3)"
    )
    resolution: Text = Field(description="the resolution that made the determination")


class SecuritiesClearance(Payload):
    """Why the securities laws allow this exercise (FMP §3(b), RD ISO ¶4(f))."""

    basis: SecuritiesBasis
    reference: Text = Field(description="the confirmation, registration or opinion relied on")


class Circumstances(Payload):
    """The circumstances of one exercise, as the notice states them (the grant's own facts are
    read from the register, never from here)."""

    fair_market_value: FmvDetermination = Field(
        description="the determination in force on the notice's effective date"
    )
    securities_law: SecuritiesClearance | None = None
    registered_under_securities_act: Flag = Field(default=False, description="FMP §9")
    s_corporation: Flag = Field(default=False, description="FMP §16(d)")
    optionee_living: Flag = True
    subject_to_first_refusal: Flag = Field(default=True, description="legends FMP §6(f)")


def legacy(facts: Mapping[str, Any]) -> tuple[GrantFacts, Circumstances]:
    """An exercise stored before the register view carried its grant's facts on its notice's day
    in ``data.facts``: read as the grant's facts (the figures it was accepted on, vested on the
    grant date) and the circumstances, so it can still be carried to its end."""
    held = int(facts["exercisable"]) + int(facts.get("exercised") or 0)
    installment = (
        {"on": facts["grant_date"], "shares": held}
        if held
        else {"on": facts["expiration_date"], "shares": int(facts["shares"])}
    )
    keys = (
        "grant_id", "optionee", "option_type", "shares", "exercise_price", "grant_date",
        "expiration_date", "expires_at", "window_ends_at", "window_derivation",
    )  # fmt: skip
    schedule = {
        "kind": "installments",
        "installments": [installment],
        "clause": "the facts the notice carried",
    }
    grant = dict.fromkeys(keys) | {k: facts[k] for k in keys if k in facts}
    grant.update(plan="(before the register)", exercised=int(facts.get("exercised") or 0))
    grant["vesting"] = schedule
    circumstances = {k: facts[k] for k in Circumstances.model_fields if k in facts}
    return GrantFacts.model_validate(grant), Circumstances.model_validate(circumstances)
