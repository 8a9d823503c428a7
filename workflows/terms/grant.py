"""The grant's section of a terms document: what a grant under the plan may be, each cited.

A limit the agreement family does not state is ``null`` with the clause saying so (the FMP
documents are the certificate and the agreement; the 1998 Plan's own limits are not in them):
a company that has them adds them in its own terms file.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import Field, model_validator

from workflows.terms.base import Cited, Clause, Strict
from workflows.terms.parties import Parties

OptionType = Literal["iso", "nso"]
Service = Literal["employee", "director", "consultant"]


class PriceFloors(Strict):
    """The lowest exercise price, as a fraction of the Board's FMV on the grant date."""

    standard: Decimal | None = Field(default=None, gt=0, le=10)
    ten_percent_owner: Decimal | None = Field(default=None, gt=0, le=10)
    clause: Clause = Field(min_length=1)


class TermLimits(Strict):
    """How long an option may run: at most ``max_years`` (``ten_percent_owner_max_years`` for a
    Ten Percent Owner Optionee) after its grant; null where the documents set no limit."""

    max_years: int | None = Field(default=None, gt=0, le=50)
    ten_percent_owner_max_years: int | None = Field(default=None, gt=0, le=50)
    clause: Clause = Field(min_length=1)


class VestingTerms(Strict):
    """The form of the schedule and from when an option is exercisable."""

    schedule: Literal["installments", "vested_ratio"]
    denominator: int | None = Field(default=None, gt=0)
    #: as_vested: each installment is exercisable once it vests (FMP §3(a));
    #: initial_vesting_date: from the Initial Vesting Date (RD ISO ¶1(e));
    #: one_year_after_grant: from the first anniversary of the grant (RD NSO ¶1(e)).
    initial_exercise: Cited[Literal["as_vested", "initial_vesting_date", "one_year_after_grant"]]
    clause: Clause = Field(min_length=1)

    @model_validator(mode="after")
    def _ratio_has_denominator(self) -> VestingTerms:
        if (self.schedule == "vested_ratio") != (self.denominator is not None):
            raise ValueError("a vested_ratio schedule, and only it, has a denominator")
        return self


class LeaveTerms(Strict):
    """A leave of absence: ``limit_days`` null means the Board decides whether a leave is a
    termination (FMP §5(a)); ``credit_by_designation``: a leave earns vesting credit only if
    the Company designates it so (RD ISO ¶7(e))."""

    limit_days: int | None = Field(default=None, gt=0)
    credit_by_designation: bool
    clause: Clause = Field(min_length=1)


class GrantTerms(Strict):
    clause: Clause = Field(min_length=1)  # the plan's power to grant
    option_types: Cited[list[OptionType]]
    eligible: dict[OptionType, Cited[list[Service]]]
    price_floor: PriceFloors
    term: TermLimits
    #: The standard term when a grant names no expiration: the Nth anniversary of the grant
    #: less one day (RD ISO ¶1(h)); null where each grant states its date (FMP §2).
    standard_term_years: Cited[int | None]
    share_reserve: Cited[int | None]
    #: Whether shares issued under the plan and repurchased by the Company may be granted again
    #: (RD Plan ¶4); null where the plan is not among the documents (FMP), and in terms pinned
    #: before it was stated: they do not return.
    repurchased_shares_return: Cited[bool | None] | None = None
    granting_period_years: Cited[int | None]
    vesting: VestingTerms
    leave: LeaveTerms
    parties: Parties

    @model_validator(mode="after")
    def _eligibility_for_each_type(self) -> GrantTerms:
        missing = [t for t in self.option_types.value if t not in self.eligible]
        if missing:
            raise ValueError(f"eligible: no eligibility for option types {missing}")
        return self
