"""A grant's facts: what other workflows (an exercise, a termination, a repurchase) read of it.

The engine's register view loads these inside the reader's own transaction and hands them to
its ``decide`` read-only; nothing here reads the grant's row. ``workflows.grants.vesting``
computes from them how many shares are vested or exercisable on a day, and
``workflows.grants.facts.open_at`` whether the option may still be exercised at an instant.

Dates are the company's local dates; instants carry their offset.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from workflows.terms.grant import Service

OptionType = Literal["iso", "nso"]
Status = Literal["outstanding", "terminated", "expired", "exercised"]


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Installment(Fact):
    """FMP §3(a): from ``on``, ``shares`` more become exercisable; installments are cumulative."""

    on: date
    shares: int = Field(strict=True, gt=0)


class Installments(Fact):
    """The certificate's Exercise Schedule (FMP Certificate, FMP §3(a))."""

    kind: Literal["installments"] = "installments"
    installments: list[Installment] = Field(min_length=1)
    clause: str = Field(min_length=1)


class VestedRatio(Fact):
    """RD ISO ¶1(g): 0 before the Initial Vesting Date, 1/``denominator`` on it, and
    1/``denominator`` more per full month of continuous employment after it, never above 1."""

    kind: Literal["vested_ratio"] = "vested_ratio"
    initial_vesting_date: date
    denominator: int = Field(default=48, strict=True, gt=0)
    clause: str = Field(min_length=1)


Schedule = Annotated[Installments | VestedRatio, Field(discriminator="kind")]


class Leave(Fact):
    """A leave of absence (RD ISO ¶7(e)). ``ends_on`` None: the leave goes on.

    ``vesting_credit``: the Company designated it (or the law requires it to be) a leave for
    which vesting credit is given; only then does it count as employment for vesting.
    ``reemployment_guaranteed``: by statute or contract; only then does a leave longer than the
    limit not end employment.
    """

    starts_on: date
    ends_on: date | None = None
    vesting_credit: bool = False
    reemployment_guaranteed: bool = False

    @model_validator(mode="after")
    def _ends_after_start(self) -> Leave:
        if self.ends_on is not None and self.ends_on < self.starts_on:
            raise ValueError("a leave ends on or after the day it starts")
        return self


class Claim(Fact):
    """An exercise of the grant (other than the reader's own), as the register view reads it
    from the exercise's row under the grant's lock: ``shares`` claimed by a notice effective on
    ``on``; ``exercised`` once its certificate issued (the shares acquired, RD ISO ¶4(a), ¶10),
    else under way (accepted, not yet issued: the shares are held for it)."""

    exercise: str = Field(min_length=1)
    shares: int = Field(strict=True, gt=0)
    on: date
    exercised: bool = False


class GrantFacts(Fact):
    """One option grant as other workflows see it.

    ``exercised``: shares already acquired on exercise (RD ISO ¶4(a): "less the number of
    shares previously acquired"). ``expires_at``: the end of the Option Expiration Date (FMP) or
    Option Term Date (RD ISO ¶1(h)). ``initial_exercise_date`` None: exercisable as it vests
    (FMP §3(a)); else nothing is exercisable before it (RD ISO ¶4(a), RD NSO ¶1(e)).
    ``service_ended_on``: the last day of employment (or of director or consultant status), once
    a termination is recorded; vesting stops there. ``window_ends_at``: the end of the
    post-termination window (FMP §5, RD ISO ¶7), never after ``expires_at``, and
    ``window_derivation`` how it was reached.
    ``claims``: the grant's exercises, under way or done, other than the reader's own
    (``Claim``); ``exercised`` counts the shares of those done. ``optionee_name``: the
    holder's name as on the face of the option, when the grant gives one.
    ``leave_limit_days``: a leave longer than this ends employment on the next day unless
    re-employment is guaranteed (RD ISO ¶7(e): 90); None where the Board decides (FMP §5(a)).
    """

    grant_id: str = Field(min_length=1)
    optionee: str = Field(min_length=1)
    optionee_name: str | None = None
    #: the optionee's service at the grant (RD Plan ¶3); None for a grant recorded without it
    service: Service | None = None
    plan: str = Field(min_length=1)
    option_type: OptionType
    shares: int = Field(strict=True, gt=0)
    exercised: int = Field(default=0, strict=True, ge=0)
    exercise_price: Decimal = Field(ge=0, allow_inf_nan=False)
    grant_date: date
    expiration_date: date
    expires_at: AwareDatetime
    vesting: Schedule
    initial_exercise_date: date | None = None
    leaves: list[Leave] = Field(default_factory=list)
    leave_limit_days: int | None = Field(default=None, gt=0)
    #: A leave counts as employment for vesting only if it carries vesting credit (RD ISO
    #: ¶7(e)): the days of any other leave do not count, and the schedule waits for them.
    leave_credit_by_designation: bool = False
    leave_clause: str = ""
    service_ended_on: date | None = None
    window_ends_at: AwareDatetime | None = None
    window_derivation: str | None = None
    status: Status = "outstanding"
    claims: list[Claim] = Field(default_factory=list)

    @property
    def reserved(self) -> int:
        """Shares held for exercises under way (accepted, the certificate not yet issued)."""
        return sum(c.shares for c in self.claims if not c.exercised)

    @property
    def claimed(self) -> int:
        """Shares exercised or held for an exercise under way: no longer free to exercise."""
        return self.exercised + self.reserved

    @property
    def holder_name(self) -> str:
        return self.optionee_name or self.optionee

    @model_validator(mode="after")
    def _consistent(self) -> GrantFacts:
        if self.claimed > self.shares:
            raise ValueError("exercised and reserved shares cannot exceed the shares granted")
        if self.expiration_date < self.grant_date:
            raise ValueError("the option expires on or after its grant date")
        if isinstance(self.vesting, Installments):
            total = sum(i.shares for i in self.vesting.installments)
            if total > self.shares:
                raise ValueError(f"installments add up to {total}, above the {self.shares} granted")
        return self


def open_at(grant: GrantFacts, at: datetime) -> bool:
    """The option may still be exercised at ``at``: not past its expiration (FMP §2, RD ISO ¶6)
    nor past the post-termination window (FMP §5, RD ISO ¶7)."""
    if grant.status == "expired" or at > grant.expires_at:
        return False
    return grant.window_ends_at is None or at <= grant.window_ends_at


# -- what a new grant is checked against (RD Plan ¶4–¶6) --------------------------------------


class FairMarketValue(Fact):
    """A Board determination of fair market value (FMP §4(a)(ii), RD Plan ¶6(A)): the one in
    force on the grant date, as the valuation register holds it (the exercise reads the same
    shape and field names)."""

    price_per_share: Decimal = Field(gt=0, allow_inf_nan=False)
    effective_on: date
    resolution: str = Field(min_length=1)
    method: Literal["closing_price", "mean_of_bid_and_ask", "board_good_faith"] = "board_good_faith"


class PlanFacts(Fact):
    """The plan a grant is made under. ``shares_committed``: shares subject to outstanding
    options plus shares issued on exercise and not repurchased; expired, terminated and
    repurchased shares have already returned to the pool (RD Plan ¶4)."""

    adopted_on: date | None = Field(default=None, description="by the Board")
    shareholders_approved_on: date | None = None
    shares_committed: int = Field(default=0, strict=True, ge=0)


class GrantingFacts(Fact):
    """The facts ``grant_option`` reads: the FMV in force and the plan's reserve and dates."""

    fmv: FairMarketValue | None = None
    plan: PlanFacts | None = None
