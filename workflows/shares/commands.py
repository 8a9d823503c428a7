"""The share register's command payloads, typed (BYL Art. V §9, Art. VI §1, Art. VIII)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field

from workflows.kit.payload import Amount, Flag, Instant, Payload, Shares, Text
from workflows.terms.share_register import Endorsement, Officer


class HolderGiven(Payload):
    id: Text = Field(
        description="the holder's id (the optionee's id for a certificate on exercise)"
    )
    name: Text | None = Field(
        default=None, description="required the first time a holder is recorded"
    )
    address: Text | None = Field(
        default=None, description="required the first time (BYL Art. VI §1)"
    )


class Signature(Payload):
    title: Officer
    name: Text


class LegendGiven(Payload):
    key: Text
    clause: Text
    text: Text


class Source(Payload):
    """The workflow whose act this records (an exercise, a ROFR): it is recorded once."""

    workflow_type: Text
    workflow_id: Text


class PartlyPaid(Payload):
    """BYL Art. VIII §1: stated on the face of a certificate issued before full payment."""

    consideration: Amount
    paid: Amount
    resolution: Text = Field(description="the Board's authorization")


class OpenShareRegister(Payload):
    opened_at: Instant
    kept_by: Literal["secretary", "transfer_agent", "registrar"] = "secretary"
    kept_at: Text = Field(description="the principal executive office, or the agent's office")
    share_classes: list[Text] = Field(default_factory=lambda: ["common"], min_length=1)
    first_number: int = Field(default=1, strict=True, gt=0, description="of the certificates")
    signatures: list[Signature] = Field(
        default_factory=list,
        description="the officers whose (facsimile) signatures certificates bear",
    )


class IssueShareCertificate(Payload):
    number: Text | None = Field(default=None, description="default: the register's next number")
    holder: HolderGiven
    shares: Shares
    share_class: Text = "common"
    issued_at: Instant
    legends: list[LegendGiven] = Field(default_factory=list)
    signatures: list[Signature] | None = Field(default=None, description="default: the register's")
    partly_paid: PartlyPaid | None = None
    escrow_agent: Text | None = None
    source: Source | None = None


class Surrendered(Payload):
    number: Text
    endorsement: Endorsement
    endorsed_by: Text | None = None


class RecordShareTransfer(Payload):
    surrendered: list[Surrendered] = Field(
        default_factory=list, description="the old certificates, endorsed (BYL Art. VIII §2)"
    )
    transferee: HolderGiven
    shares: Shares
    effective_at: Instant
    number: Text | None = Field(default=None, description="of the transferee's certificate")
    balance_number: Text | None = Field(default=None, description="of the transferor's balance")
    release_legends: list[Text] = Field(default_factory=list)
    signatures: list[Signature] | None = None
    source: Source | None = None


class CancelShareCertificate(Payload):
    number: Text
    endorsement: Endorsement | None = Field(default=None, description="as surrendered")
    endorsed_by: Text | None = None
    shares: Shares | None = Field(default=None, description="default: all the certificate's")
    reason: Literal["purchased_by_company", "repurchased", "surrendered_to_company"]
    cancelled_at: Instant
    balance_number: Text | None = None
    signatures: list[Signature] | None = None
    source: Source | None = None


class ChangeHolderAddress(Payload):
    holder: Text
    address: Text
    changed_at: Instant


class ClaimLostCertificate(Payload):
    number: Text
    how: Literal["lost", "stolen", "destroyed"]
    claimed_at: Instant
    affidavit: Text | None = None


class RequireReplacementTerms(Payload):
    number: Text
    required_by: Signature
    security: Literal["none", "bond", "other_adequate_security"]
    amount: Amount | None = Field(default=None, description="of the bond or security")
    conditions: Text | None = None
    required_at: Instant


class SecurityGiven(Payload):
    kind: Literal["bond", "other_adequate_security"]
    amount: Amount
    reference: Text = Field(description="the bond's number and surety, or the security held")


class ReplaceLostCertificate(Payload):
    number: Text
    new_number: Text | None = None
    replaced_at: Instant
    security: SecurityGiven | None = None
    signatures: list[Signature] | None = None


# -- what other workflows send the register (internal: by the system party, through the engine).
# Each names the act of its sender (``act``: the act's id in the sender's record); the sender
# itself is the command's actor, so an act is recorded once, and found again when it is void.


class DispositionWatch(Payload):
    """RD ISO ¶14: a disposition of the shares within one year after exercise or two years
    after grant is notified to the CFO; the watch as the exercise computed it."""

    ends_on: date = Field(description="the last day a disposition is disqualifying")
    notify: Text = Field(description="who is notified: the Chief Financial Officer")
    clause: Text
    exercised_on: date
    granted_on: date
    derivation: Text


class RecordExerciseIssuance(Payload):
    """The certificate an exercise issued (FMP §4(b), RD ISO ¶4(e)), recorded as issued."""

    act: Text = Field(description="the exercise's act that issued it")
    number: Text
    holder: HolderGiven
    shares: Shares
    share_class: Text = "common"
    issued_at: Instant
    legends: list[LegendGiven] = Field(default_factory=list)
    escrow_agent: Text | None = None
    watch: DispositionWatch | None = None


class RecordRofrTransfer(Payload):
    """A transfer the ROFR completed: a sale to a third party (FMP §6(d)(iv), RD ISO ¶11(e)),
    a purchase by an assignee of the right, an exempt transfer (FMP §6(b)). The ROFR's
    completion is the surrender of the certificates endorsed (BYL Art. VIII §2)."""

    act: Text = Field(description="the ROFR's act that completed the transfer")
    holder: Text = Field(description="the transferor (the ROFR's Owner)")
    transferee: HolderGiven
    shares: Shares
    effective_at: Instant
    certificates: list[Text] | None = Field(
        default=None, description="surrendered; default: the holder's, lowest number first"
    )
    endorsement: Endorsement = "endorsed"
    free_and_clear: Flag = Field(
        default=False,
        description="the buyer takes free and clear (FMP §6(d)(iv)): the legends the terms "
        "let a transfer release are left off",
    )
    clause: Text = Field(description="the ROFR's clause for the transfer")


class RecordRofrRepurchase(Payload):
    """The Company bought the shares at the ROFR's closing (FMP §6(d)(iii), RD ISO ¶11(d)):
    the certificates surrendered endorsed are cancelled, any balance reissued."""

    act: Text
    holder: Text
    shares: Shares
    effective_at: Instant
    certificates: list[Text] | None = None
    clause: Text


class VoidRofrTransfer(Payload):
    """A transfer the ROFR holds void (FMP §6(i), RD ISO ¶11(f)): never shown as valid."""

    act: Text = Field(description="the ROFR's act now void")
    clause: Text
    reason: Text
