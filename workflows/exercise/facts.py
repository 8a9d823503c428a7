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

from datetime import date
from typing import Literal

from pydantic import Field

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
