"""What one ROFR decision works with: the kit's context with the terms' ROFR section; timers."""

from __future__ import annotations

from dataclasses import dataclass, field

from workflows.kernel import Party, Refused
from workflows.kit.context import Context, on_time
from workflows.kit.step import Step
from workflows.terms.rofr import RofrTerms

# Timer names (unique within a workflow; setting one again replaces it).
ELECTION = "election_deadline"
OWNER_CHOICE = "owner_choice_deadline"
VALUE_AGREEMENT = "value_agreement_deadline"
JOINT_APPRAISER = "joint_appraiser_deadline"
CLOSING = "closing_deadline"
ESCROW_DELIVERY = "escrow_delivery_deadline"
SALE_WINDOW = "sale_window_end"
ALL_TIMERS = (
    ELECTION,
    OWNER_CHOICE,
    VALUE_AGREEMENT,
    JOINT_APPRAISER,
    CLOSING,
    ESCROW_DELIVERY,
    SALE_WINDOW,
)


@dataclass
class Ctx(Context):
    """A ROFR decision's context: the kit's, plus the terms' ROFR section."""

    #: The section, read once (the terms of a context never change; rules read it a dozen
    #: times a message).
    _rofr: RofrTerms | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def rofr(self) -> RofrTerms:
        if self._rofr is not None:
            return self._rofr
        section = self.terms.section("rofr")
        if not isinstance(section, RofrTerms):
            raise Refused(
                f"terms {self.terms.id}",
                f"these terms ({self.terms.id}) have no rofr section: they do not govern a right "
                "of first refusal",
                "not_provided",
            )
        self._rofr = section
        return section

    @property
    def clause(self) -> str:
        return self.rofr.clause

    def owner_notice_party(self) -> Party:
        """Who receives a notice the company owes the owner.

        RD ISO ¶12(c): while the shares are in escrow, the notices required to be given to the
        Optionee (and the payments) are given to the escrow agent instead.
        """
        escrow = self.rofr.escrow
        if self.data.get("escrow") and escrow and escrow.notices_to_escrow_agent.value:
            return Party.ESCROW_AGENT
        return Party.OWNER


__all__ = [
    "ALL_TIMERS",
    "CLOSING",
    "ELECTION",
    "ESCROW_DELIVERY",
    "JOINT_APPRAISER",
    "OWNER_CHOICE",
    "SALE_WINDOW",
    "VALUE_AGREEMENT",
    "Ctx",
    "Step",
    "on_time",
]
