"""The ROFR's section of a terms document: windows, notice contents, parties, each cited.

Which commands ``parties`` may name is the ROFR's command table (``workflows.registry``
checks it when a terms file is loaded), never a second list here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from workflows.kernel import Party
from workflows.terms.base import Cited, Clause, Strict, Window


class NoticeRequirements(Strict):
    """What the owner's notice of a proposed transfer must contain."""

    transfer_types: Cited[list[Literal["sale", "pledge", "gift", "involuntary"]]]
    price_required_for: Cited[list[Literal["sale", "pledge", "gift", "involuntary"]]]
    price_when_absent: Cited[Literal["fair_market_value_determined_by_company"]] | None = None
    transferee_address: Cited[bool]
    compliance_proof: Cited[bool]
    bona_fide_evidence: Cited[bool]
    signatures: Cited[list[Party]]
    one_notice_per_transferee: Cited[bool]
    binding_commitment: Cited[bool] | None = None
    no_transfer_while_subject_to_repurchase: Cited[bool] | None = None


class ClosingTerms(Strict):
    """When a repurchase after a full exercise must close (``days`` null: no fixed deadline)."""

    days: int | None = Field(default=None, gt=0)
    runs_from: Literal["exercise_notice_effective"] = "exercise_notice_effective"
    clause: Clause = Field(min_length=1)


class PartialExerciseTerms(Strict):
    """The owner's choice after an exercise for only part of the shares (FMP §6(d)(v))."""

    owner_choice: Window
    on_silence: Cited[Literal["third_party_sale", "sale_to_company"]]


class NonCashTerms(Strict):
    """A price payable in property other than cash or indebtedness."""

    method: Literal["appraisal", "company_discounted_cash_equivalent"]
    clause: Clause = Field(min_length=1)
    agree_value: Window | None = None
    joint_appraiser: Window | None = None
    third_appraiser_binds: Cited[bool] | None = None
    cost_shared_equally: Cited[bool] | None = None
    closing_business_days_after_exercise: Cited[int] | None = None
    closing_days_after_valuation: Cited[int] | None = None
    debt_cancellation_is_cash: Cited[bool] | None = None

    @model_validator(mode="after")
    def _appraisal_has_its_marks(self) -> NonCashTerms:
        if self.method == "appraisal":
            needed = (
                "agree_value",
                "joint_appraiser",
                "closing_business_days_after_exercise",
                "closing_days_after_valuation",
            )
            missing = [n for n in needed if getattr(self, n) is None]
            if missing:
                raise ValueError(f"an appraisal needs {', '.join(missing)}")
        return self


class EscrowTerms(Strict):
    notices_to_escrow_agent: Cited[bool]
    delivery_days_after_payment: Cited[int]


LapseKind = Literal[
    "holders_of_record_exceeded",
    "public_market_determined",
    "firm_commitment_offering",
    "transfer_of_control",
    "public_market_exists",
]


class LapseEvent(Strict):
    """An event on which the right ends for good."""

    event: LapseKind
    parties: list[Party] = Field(min_length=1)
    clause: Clause = Field(min_length=1)
    more_than_holders: int | None = Field(default=None, gt=0)
    min_offering_amount: int | None = Field(default=None, gt=0)
    unless_successor_assumes: bool = False
    markets: list[Literal["national_exchange", "otc_daily_prices"]] = Field(default_factory=list)


class ExemptTransfer(Strict):
    """A transfer the right does not reach, and the conditions it needs."""

    category: Literal[
        "gift_to_spouse_or_issue", "will_or_intestacy", "pledge_to_company", "ownership_change"
    ]
    company_consent: bool
    transferee_acknowledgment: bool
    clause: Clause = Field(min_length=1)
    note: str = ""


class RofrTerms(Strict):
    clause: Clause = Field(min_length=1)  # the grant of the right
    notice_name: Cited[str]
    notice_recipient: Cited[str]
    requirements: NoticeRequirements
    notice_review: Cited[bool]
    election_window: Window
    election_scope: Cited[Literal["any_or_all", "all_only"]]
    closing: ClosingTerms
    partial_exercise: PartialExerciseTerms | None = None
    sale_window: Window
    sale_terms: Cited[Literal["no_more_favourable", "as_described"]]
    sale_buyer: Cited[Literal["any_third_party", "proposed_transferee"]]
    buyer_takes: Cited[Literal["free_and_clear", "subject_to_rofr"]]
    transferee_written_agreement: Cited[bool]
    recording_needs_approval: Cited[bool]
    #: What a transfer made against the right is (FMP §6(i): "null and void ab initio"; RD ISO
    #: ¶11(f): "void"): cited when a timely act entered later voids a recorded sale.
    void_transfer: Cited[Literal["void_ab_initio", "void"]] | None = None
    non_cash: NonCashTerms
    escrow: EscrowTerms | None = None
    assignable: Cited[bool]
    lapse_events: list[LapseEvent] = Field(min_length=1)
    exempt_transfers: list[ExemptTransfer] = Field(default_factory=list)
    parties: dict[str, Cited[list[Party]]]

    @field_validator("parties")
    @classmethod
    def _no_system_party(cls, v: dict[str, Cited[list[Party]]]) -> dict[str, Cited[list[Party]]]:
        for name, allowed in v.items():
            if Party.SYSTEM in allowed.value:
                raise ValueError(f"{name}: the system party is reserved for timers")
        return v

    @model_validator(mode="after")
    def _windows_run_from_known_events(self) -> RofrTerms:
        if self.election_window.runs_from not in ("notice_effective", "notice_date"):
            raise ValueError("election_window must run from the notice")
        if self.sale_window.runs_from not in ("notice_effective", "election_deadline"):
            raise ValueError("sale_window runs from the notice or the end of the election window")
        if self.election_scope.value == "any_or_all" and self.partial_exercise is None:
            raise ValueError("a partial election (any_or_all) needs partial_exercise terms")
        return self
