"""The termination's section of a terms document: the post-termination windows, each cited.

A window is ``days`` or ``months`` after the termination, or ends ``immediately``; it never
runs past the option's expiration (``cap``). The RD extensions (¶7(a) death soon after,
¶7(c) exercise prevented by law, ¶7(d) Section 16(b)) are present only where the agreement has
them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from workflows.terms.base import Cited, Clause, Strict
from workflows.terms.grant import Service
from workflows.terms.parties import Parties

Reason = Literal[
    "without_cause",
    "resignation",
    "for_cause",
    "death",
    "disability",
    "end_of_service_status",  # a director's, consultant's or advisor's status ended
    "employer_left_group",  # the employer ceased to be a Participating Company (RD ISO ¶7(b))
    "leave_over_limit",  # a leave longer than the terms allow (RD ISO ¶7(e))
    "leave_determined_termination",  # the Board found a leave to be one (FMP §5(a))
]
REASONS: tuple[Reason, ...] = Reason.__args__  # type: ignore[attr-defined]


class PostTerminationWindow(Strict):
    reasons: list[Reason] = Field(min_length=1)
    days: int | None = Field(default=None, gt=0, le=3650)
    months: int | None = Field(default=None, gt=0, le=120)
    immediately: bool = False
    label: str = Field(min_length=1)  # the start as the clause words it ("terminated")
    clause: Clause = Field(min_length=1)

    @model_validator(mode="after")
    def _one_length(self) -> PostTerminationWindow:
        given = [self.days is not None, self.months is not None, self.immediately]
        if sum(given) != 1:
            raise ValueError("a window is days, months or immediately: exactly one")
        return self


class ReasonRule(Strict):
    """What a reason needs before it is recorded, and the clause that makes it a termination."""

    proof_required: bool = False  # FMP §5(d): proof of disability in the Board's form
    board_determination: bool = False  # FMP §5(a): the Board decides a leave is a termination
    #: The reason ends employment only for an optionee who served so at the grant (RD NSO ¶7(f):
    #: "a director or consultant or an advisor but not an employee ... at the time the Option is
    #: granted"); None: for every optionee.
    services: list[Service] | None = None
    clause: Clause = Field(min_length=1)


class DeathAfterTermination(Strict):
    """RD ISO ¶7(a): death within ``within_months`` after termination counts as termination
    on account of death."""

    within_months: int = Field(gt=0, le=120)
    clause: Clause = Field(min_length=1)


class PreventedByLaw(Strict):
    """RD ISO ¶7(c): exercisable until ``months`` after the Company's notice that it is."""

    months: int = Field(gt=0, le=120)
    clause: Clause = Field(min_length=1)


class Section16b(Strict):
    """RD ISO ¶7(d): the earliest of the ``days_after_exposure``th day after the exposure ends,
    the ``days_after_termination``th day after termination and the Option Term Date."""

    days_after_exposure: int = Field(gt=0, le=3650)
    days_after_termination: int = Field(gt=0, le=3650)
    clause: Clause = Field(min_length=1)


class TerminationTerms(Strict):
    clause: Clause = Field(min_length=1)
    windows: list[PostTerminationWindow] = Field(min_length=1)
    reasons: dict[Reason, ReasonRule]
    #: what stays exercisable: the part exercisable on the day employment ended.
    retained: Cited[Literal["exercisable_on_termination"]]
    cap: Cited[Literal["expiration"]]
    expiration_name: Cited[str]  # "Option Expiration Date", "Option Term Date"
    death_after_termination: DeathAfterTermination | None = None
    prevented_by_law: PreventedByLaw | None = None
    section_16b: Section16b | None = None
    parties: Parties

    @model_validator(mode="after")
    def _each_reason_one_window(self) -> TerminationTerms:
        seen: dict[str, int] = {}
        for w in self.windows:
            for r in w.reasons:
                seen[r] = seen.get(r, 0) + 1
        twice = sorted(r for r, n in seen.items() if n > 1)
        unwindowed = sorted(set(self.reasons) - set(seen))
        if twice or unwindowed:
            raise ValueError(f"each reason needs one window: twice {twice}, none {unwindowed}")
        stray = sorted(set(seen) - set(self.reasons))
        if stray:
            raise ValueError(f"windows name reasons the terms do not list: {stray}")
        if self.death_after_termination and "death" not in self.reasons:
            raise ValueError("death_after_termination needs a death window")
        return self

    def window_for(self, reason: str) -> PostTerminationWindow | None:
        return next((w for w in self.windows if reason in w.reasons), None)
