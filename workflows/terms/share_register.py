"""The share register's section of a terms document: what the register keeps and how a
certificate is issued, transferred, cancelled and replaced, each value citing its clause.

FMP's documents include the Company's bylaws (BYL Art. V §9, Art. VI §1, Art. VIII); RD's do not,
so where only bylaws could say (who signs a certificate, lost certificates) the RD presets are
``null`` with a comment, and a company adds its own bylaws' rule in its own terms file.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from workflows.terms.base import Cited, Clause, Strict
from workflows.terms.parties import Parties

Officer = Literal[
    "chairman",
    "vice_chairman",
    "president",
    "vice_president",
    "chief_financial_officer",
    "assistant_treasurer",
    "secretary",
    "assistant_secretary",
]
Endorsement = Literal[
    "endorsed",
    "assignment_separate_from_certificate",
    "evidence_of_succession",
    "evidence_of_assignment",
    "evidence_of_authority",
]
Security = Literal["bond", "other_adequate_security"]


class Signatures(Strict):
    """Every certificate is signed by one officer of ``first`` and one of ``second`` (BYL Art.
    VIII §1: the chairman, vice chairman, president or a vice president, and the CFO, an
    assistant treasurer, the secretary or an assistant secretary); facsimiles allowed."""

    first: list[Officer] = Field(min_length=1)
    second: list[Officer] = Field(min_length=1)
    clause: Clause = Field(min_length=1)


class SurrenderTerms(Strict):
    """A transfer is recorded only on surrender of the old certificate, endorsed in one of the
    ``endorsements`` forms (BYL Art. VIII §2)."""

    required: Cited[bool]
    endorsements: Cited[list[Endorsement]] = Field()

    @model_validator(mode="after")
    def _forms_when_required(self) -> SurrenderTerms:
        if self.required.value and not self.endorsements.value:
            raise ValueError("a surrender that is required names its endorsement forms")
        return self


class LostCertificateTerms(Strict):
    """BYL Art. VIII §3: a replacement for a certificate lost, stolen or destroyed, on the terms
    one of ``officers`` requires, which may include indemnity secured by one of ``security``."""

    officers: list[Officer] = Field(min_length=1)
    security: list[Security] = Field(min_length=1)
    clause: Clause = Field(min_length=1)


class ShareRegisterTerms(Strict):
    clause: Clause = Field(min_length=1)  # the duty to keep the register
    signatures: Signatures | None
    #: A certificate before full payment, as the Board authorizes, stating the consideration
    #: and the amount paid on its face (BYL Art. VIII §1).
    partly_paid: Cited[bool]
    surrender: SurrenderTerms
    #: Legends a transfer may leave off the new certificate (FMP §6(d)(iv): the buyer takes the
    #: shares free and clear); every other legend is carried forward.
    releasable_legends: Cited[list[str]]
    lost_certificates: LostCertificateTerms | None
    parties: Parties
