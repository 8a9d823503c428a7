"""The facts of the grant an exercise reads, as of the notice's effective date.

They come in as an argument (in the notice's payload today; from the engine's register view
once grants are workflows): the exercise judges the notice against them and never computes
vesting itself. Field names follow the grant side's ``GrantFacts`` (grant_id, optionee,
option_type, shares, exercised, exercise_price, grant_date, expiration_date, expires_at,
window_ends_at) so the two can be unified; the figures on a date (``vested``,
``exercisable``), the FMV in force and the securities-law and S-corporation status are what an
exercise needs beyond them.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, model_validator

from workflows.kit.payload import Amount, Count, Flag, Instant, Payload, Shares, Text
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


class ExerciseFacts(Payload):
    grant_id: Text
    optionee: Text = Field(description="the optionee's name as on the face of the option")
    option_type: Literal["iso", "nso"]
    grant_date: date
    shares: Shares
    exercise_price: Amount = Field(description="per share")
    as_of: date = Field(description="the day these figures hold: the notice's effective date")
    vested: Count
    exercisable: Count = Field(description="on as_of, shares already exercised subtracted")
    exercised: Count = 0
    expiration_date: date
    expires_at: Instant = Field(description="end of the Option Expiration / Term Date")
    window_ends_at: Instant | None = Field(default=None, description="post-termination window")
    window_derivation: str | None = None
    fair_market_value: FmvDetermination
    securities_law: SecuritiesClearance | None = None
    registered_under_securities_act: Flag = Field(default=False, description="FMP §9")
    s_corporation: Flag = Field(default=False, description="FMP §16(d)")
    optionee_living: Flag = True
    subject_to_first_refusal: Flag = Field(default=True, description="legends FMP §6(f)")

    @model_validator(mode="after")
    def _consistent(self) -> ExerciseFacts:
        if self.exercised + self.exercisable > self.shares or self.vested > self.shares:
            raise ValueError("exercised plus exercisable, and vested, are at most the shares")
        if self.fair_market_value.effective_on > self.as_of:
            raise ValueError("the fair market value in force was determined by as_of")
        return self
