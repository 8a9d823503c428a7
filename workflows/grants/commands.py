"""The grant's command payloads, typed (docs/rules.md §3)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from workflows.kit.payload import Amount, Count, Flag, Instant, Payload, Shares, Text


class InstallmentGiven(Payload):
    on: date
    shares: Shares


class GrantOption(Payload):
    optionee: Text = Field(description="the optionee's id")
    optionee_name: str | None = None
    plan: Text = Field(description="the plan the option is granted under")
    shares: Shares
    exercise_price: Amount = Field(description="per share")
    grant_date: date
    expiration_date: date | None = Field(
        default=None,
        description="the Option Expiration Date (FMP §2, required) or Option Term Date "
        "(RD ISO ¶1(h): the tenth anniversary less one day when left out)",
    )
    option_type: Literal["iso", "nso"] | None = Field(
        default=None, description="default: the one type the terms provide"
    )
    ten_percent_owner: Flag = Field(default=False, description="RD Plan ¶6(A)(iii), ¶6(B)(ii)")
    service: Literal["employee", "director", "consultant"] = "employee"
    installments: list[InstallmentGiven] | None = Field(
        default=None, description="the certificate's Exercise Schedule (FMP §3(a))"
    )
    initial_vesting_date: date | None = Field(default=None, description="RD ISO ¶1(f)")
    resolution: str | None = Field(default=None, description="or the actor's reference")


class RecordLeave(Payload):
    starts_on: date
    ends_on: date | None = None
    vesting_credit: Flag = Field(default=False, description="designated for vesting credit")
    reemployment_guaranteed: Flag = Field(default=False, description="by statute or contract")


class RecordTermination(Payload):
    """Sent by the grant's termination (FMP §5, RD ISO ¶7), never by a party: the actor's
    reference is the termination's workflow id."""

    terminated_on: date
    reason: Text
    forfeited: Count = Field(description="unvested shares back in the pool")
    retained: Count = Field(description="exercisable until the window ends")
    expired: Count = Field(default=0, description="unexercised when the window closed")
    window_ends_at: Instant | None = None
    window_derivation: str | None = None


class RecordExercisedShares(Payload):
    """Sent by an exercise of the grant when its certificate issues (RD ISO ¶4(a): "shares
    previously acquired upon exercise"; ¶10, FMP §4(b)), never by a party: the actor's reference
    is the exercise's workflow id."""

    shares: Shares
    exercised_on: date = Field(description="the day the notice of exercise took effect")
    certificate: Text | None = None
