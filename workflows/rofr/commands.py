"""The ROFR's command payloads: what each command carries, typed (docs/rules.md §7).

Presence and shape are checked here, for every command alike; whether a well-formed command is
allowed (its timing, its parties, the notice's contents the terms require) is for the rules,
each citing its clause. A field the terms require only under some terms (``compliance_proof``,
``bona_fide_evidence``, a transferee's address) is optional here and required by its rule.
"""

from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from workflows.kernel import Party
from workflows.kit.payload import (
    Amount,
    Flag,
    Instant,
    Note,
    NoticeGiven,
    Payload,
    Shares,
    Text,
)
from workflows.terms.rofr import LapseKind

TransferType = Literal["sale", "pledge", "gift", "involuntary"]


class Transferee(Payload):
    name: Text
    address: Note | None = None


class Signature(Payload):
    """RD ISO ¶11(b): the Transfer Notice is signed by the Optionee and the Proposed
    Transferee; a signature names who signed, in which capacity."""

    party: Party
    name: Text = Field(description="who signed, by name")


class Consideration(Payload):
    form: Literal["cash", "indebtedness", "property"] = "cash"
    price_per_share: Amount | None = None
    total: Amount | None = None
    description: Note | None = Field(default=None, description="what a property price is")


class DeliverTransferNotice(Payload):
    holder: Text = Field(description="the owner's id")
    shares: Shares
    transferee: Transferee | None = None
    transferees: list[Transferee] | None = Field(default=None, description="one per notice in RD")
    transfer_type: TransferType = "sale"
    consideration: Consideration | None = None
    compliance_proof: Note | None = Field(default=None, description="FMP §6(d)(ii)(2)")
    bona_fide_evidence: Note | None = Field(default=None, description="RD ISO ¶11(b)")
    signed_by: list[Signature] = Field(default_factory=list, description="RD ISO ¶11(b)")
    binding_commitment: Flag = Field(
        default=False,
        description="RD ISO ¶11(b): the notice binds the owner and the proposed transferee to "
        "the transfer, subject only to the right",
    )
    shares_in_escrow: Flag = False
    subject_to_repurchase_right: Flag = False
    holder_name: str | None = None
    certificates: list[str] | None = None
    notice: NoticeGiven


class RejectTransferNotice(Payload):
    ground: Literal["insufficient_information", "not_bona_fide"]
    reason: Text
    notice: NoticeGiven


class AssignRofr(Payload):
    """FMP §16(c), RD ISO ¶11(h): to one or more persons; give ``assignee`` or ``assignees``."""

    assignee: Text | None = Field(default=None, description="the person assigned the right")
    assignees: list[Text] | None = Field(
        default=None,
        min_length=1,
        description="several persons, each assigned the right (RD ISO ¶11(h))",
    )
    assigned_at: Instant | None = Field(
        default=None, description="when the assignment took effect (default: when entered)"
    )


class ExerciseRofr(Payload):
    notice: NoticeGiven
    shares: Shares | None = Field(default=None, description="default: all remaining")
    price_per_share: Amount | None = Field(default=None, description="RD gift or involuntary")
    payment: Literal["cash_value", "as_offered"] | None = Field(
        default=None, description="FMP property price"
    )
    cash_equivalent: Amount | None = Field(default=None, description="RD property price")


class WaiveRofr(Payload):
    notice: NoticeGiven


class ChooseSaleAlternative(Payload):
    alternative: Literal["third_party_sale", "sale_to_company"]
    notice: NoticeGiven


class AgreeCashValue(Payload):
    cash_value: Amount
    agreed_at: Instant


class AppointJointAppraiser(Payload):
    appraiser: Text
    appointed_at: Instant


class SelectAppraiser(Payload):
    """FMP §6(d)(iii): no joint appraiser within the 20 days, each side selects its own
    appraiser (``select_owner_appraiser``, ``select_company_appraiser``)."""

    appraiser: Text = Field(description="the appraiser of recognized standing selected")
    selected_at: Instant


class RecordThirdAppraiser(Payload):
    """FMP §6(d)(iii): the third appraiser, designated by the owner's and the company's
    appraisers, as either side records it."""

    appraiser: Text = Field(description="the third appraiser the two appraisers designated")
    designated_at: Instant


class AppointAppraisers(Payload):
    """Retired: refused since each side selects its own appraiser (FMP §6(d)(iii)); use
    select_owner_appraiser, select_company_appraiser and record_third_appraiser. Acts of it
    recorded before stand."""

    model_config = ConfigDict(json_schema_extra={"deprecated": True})

    owner_appraiser: Text
    company_appraiser: Text
    third_appraiser: Text
    appointed_at: Instant


class RecordValuation(Payload):
    cash_value: Amount
    valued_at: Instant
    appraiser: Text | None = Field(
        default=None,
        description="whose appraisal this is (default: the appraiser whose appraisal binds)",
    )


class CompleteClosing(Payload):
    closed_at: Instant
    amount_paid: Amount | None = None


class ReleaseEscrow(Payload):
    delivered_at: Instant


class Buyer(Payload):
    name: Text
    address: str | None = Field(
        default=None, description="required by the share register for a new holder (BYL Art. VI §1)"
    )
    holder_id: Text | None = Field(
        default=None, description="the buyer's id on the share register (default: its name)"
    )


class TransferCompliance(Payload):
    """How a transfer meets FMP §6(g) (securities laws) and §6(h) (S corporation)."""

    securities_act: Literal["registered", "exempt"] = Field(
        description="FMP §6(g)(i)(1): under an effective registration statement, or exempt"
    )
    exemption: Text | None = Field(default=None, description="the exemption relied on")
    state_law: Literal["qualified", "registered", "exempt"] = Field(
        description="FMP §6(g)(i)(2): under the securities laws of the states concerned"
    )
    counsel_opinion: Text | None = Field(
        default=None, description="FMP §6(g)(ii): the Company's counsel's opinion, if it asked"
    )
    s_corporation: Literal["not_an_s_corporation", "eligible_shareholder"] = Field(
        description="FMP §6(h): the company is not an S corporation, or the transferee is an "
        "eligible S corporation shareholder whose holding keeps the status"
    )


class ReportThirdPartySale(Payload):
    buyer: Buyer
    shares: Shares
    sold_at: Instant
    price_per_share: Amount | None = None
    total: Amount | None = None
    conforms_to_notice: Flag = False
    transferee_agreed_in_writing: Flag = Field(default=False, description="RD ISO ¶11(f)")
    compliance: TransferCompliance | None = Field(default=None, description="FMP §6(d)(iv)")


class DemandAssurances(Payload):
    assurances: Note | None = None


class ProvideAssurances(Payload):
    assurances: Text


class ApproveTransfer(Payload):
    pass


class RecordLapseEvent(Payload):
    event: LapseKind
    occurred_at: Instant
    holders_of_record: Shares | None = None
    offering_amount: Amount | None = None
    firm_commitment: Flag | None = None
    registered: Flag | None = None
    resolution: Note | None = Field(default=None, description="or the actor's reference")
    successor_assumes_plan: Flag | None = None
    market: Literal["national_exchange", "otc_daily_prices"] | None = Field(
        default=None, description="the public market, as RD ISO ¶11(i)(ii) names it"
    )


class ExemptTransferee(Payload):
    name: Text
    relationship: str | None = Field(default=None, description="spouse, issue, adopted_child")
    address: Note | None = Field(
        default=None, description="required by the share register for a new holder (BYL Art. VI §1)"
    )
    holder_id: Text | None = Field(
        default=None, description="the transferee's id on the share register (default: its name)"
    )


class ProposeExemptTransfer(Payload):
    holder: Text
    shares: Shares
    category: Literal[
        "gift_to_spouse_or_issue", "will_or_intestacy", "pledge_to_company", "ownership_change"
    ]
    transferee: ExemptTransferee
    without_consideration: Flag = False
    purchase_money_debt: Flag = False
    ownership_change: Literal["sale_of_stock", "merger", "sale_of_assets", "liquidation"] | None = (
        Field(default=None, description="an Ownership Change as RD ISO ¶8 defines it")
    )


class ConsentToTransfer(Payload):
    consented_at: Instant


class RefuseConsent(Payload):
    reason: Note | None = None


class AcknowledgeTransferTerms(Payload):
    acknowledged_at: Instant


class CompleteExemptTransfer(Payload):
    transferred_at: Instant
    participating_company_stock: Flag = False
    compliance: TransferCompliance | None = Field(default=None, description="FMP §6(b)(i)")
