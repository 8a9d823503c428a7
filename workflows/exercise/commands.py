"""The exercise's command payloads, typed (docs/rules.md §4).

Shape only: whether a well-formed command is allowed (its form of payment, its timing, who sent
it) is for the rules, each citing its clause.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import Field

from workflows.exercise.facts import Circumstances
from workflows.kit.payload import Amount, Count, Flag, Instant, NoticeGiven, Payload, Shares, Text
from workflows.terms.exercise import Exerciser, PaymentFormName, Representation

Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]


class ExercisedBy(Payload):
    name: Text = Field(description="who signed the notice")
    capacity: Exerciser = "optionee"
    s_corporation_eligible: Flag | None = Field(default=None, description="FMP §16(d)")


class TenderedShares(Payload):
    """Company shares tendered in payment: how many, since when held, from whom acquired."""

    count: Shares
    certificate: Text | None = None
    held_since: date
    acquired_from_company: Flag = True
    section_16_applies: Flag = Field(default=True, description="FMP §4(a)(ii): §16(b) holding")
    redemption_restricted: Flag = Field(default=False, description="RD ISO ¶4(c)")


class PromissoryNote(Payload):
    principal: Amount
    due_on: date
    interest_rate: Decimal = Field(ge=0, le=100, allow_inf_nan=False, description="% a year")
    minimum_rate: Decimal = Field(
        ge=0, le=100, allow_inf_nan=False, description="% a year that avoids imputed interest"
    )
    interest_every_months: int = Field(strict=True, gt=0, le=120)
    recourse: Flag = True
    secured_by_shares: Flag = False


class PaymentPart(Payload):
    form: PaymentFormName
    amount: Amount | None = Field(default=None, description="cash, check, debt, proceeds")
    shares: TenderedShares | None = None
    note: PromissoryNote | None = None
    program: Text | None = Field(default=None, description="the sale-proceeds program")


Payment = Annotated[list[PaymentPart], Field(min_length=1)]


class DeliverExerciseNotice(Payload):
    grant: Text = Field(description="the grant's id: its facts are read from the register")
    shares: Shares
    notice: NoticeGiven
    exercised_by: ExercisedBy
    payment: Payment
    representations: list[Representation] = Field(default_factory=list)
    investment_statement: Flag = Field(default=False, description="FMP §9, enclosed")
    circumstances: Circumstances


class AcceptPayment(Payload):
    decided_at: Instant
    resolution: Text | None = None


class RefusePayment(Payload):
    decided_at: Instant
    reason: Text


class TenderPayment(Payload):
    payment: Payment
    paid_at: Instant


class RequireWithholding(Payload):
    amount: Amount
    tax_date: date = Field(description="the day the tax to withhold is determined")
    fair_market_value: Amount | None = Field(default=None, description="per share on Tax Date")
    remit_by: date | None = Field(
        default=None, description="a later date the Company sets for the remittance"
    )
    required_at: Instant | None = Field(
        default=None, description="when the Company required it; left out, when entered"
    )


class RemitWithholding(Payload):
    amount: Amount
    paid_at: Instant
    method: Literal["cash", "check", "payroll"] = "check"


class ElectWithholding(Payload):
    method: Literal["withhold_shares", "tender_shares"]
    portion: Literal["all", "percentage"]
    percentage: Percent | None = None
    rate_basis: Literal["flat", "w4"]
    notice: NoticeGiven


class DecideElection(Payload):
    decided_at: Instant
    resolution: Text | None = None


class RequestInvestmentLetter(Payload):
    requested_at: Instant
    form: Text | None = Field(default=None, description="the form the company requires")


class DeliverInvestmentLetter(Payload):
    delivered_at: Instant


class RequireEscrow(Payload):
    escrow_agent: Text
    required_at: Instant


class DeliverEscrowAgreement(Payload):
    delivered_at: Instant


class IssueCertificate(Payload):
    certificate_number: Text
    issued_at: Instant
    additional_legends: list[Text] = Field(default_factory=list, description="FMP §10, RD ¶16")
    omit_legends: list[Text] = Field(default_factory=list, description="default legends left off")
    holder_address: Text | None = Field(
        default=None,
        description="the holder's address for the share register (BYL Art. VI §1): required "
        "there the first time the holder is recorded",
    )


class RejectExercise(Payload):
    ground: Literal[
        "payment_not_honoured", "securities_law", "notice_defective", "conditions_unmet"
    ]
    reason: Text
    rejected_at: Instant


class RecordTermination(Payload):
    """The optionee's termination of service, as the termination workflow sends it (never a
    party: the actor's reference is the termination's workflow id)."""

    termination: Text | None = Field(
        default=None, description="the termination workflow's id; left out, the sender's"
    )
    reason: Text
    terminated_on: date = Field(description="the last day of employment")
    effective_at: Instant = Field(description="when the termination took effect")
    retained: Count = Field(description="shares exercisable on the last day of employment")
    exercised_at_termination: Count = 0
    window_ends_at: Instant = Field(description="the post-termination window's end")
    window_derivation: str | None = None
    clause: Text


class WithdrawExercise(Payload):
    withdrawn_at: Instant
