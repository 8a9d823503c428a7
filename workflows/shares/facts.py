"""What other workflows read of the share register (the engine's register view loads these).

``RegisterFacts``: the number of holders of record (FMP §6(c)(iii), §6(d)(vi)(1): the rights
lapse when there are more than 500) and the shares outstanding by class. ``Holding``: one
holder's name, address and outstanding certificates (a repurchase or a ROFR reads what the
Owner holds). ``workflows.shares.register`` builds them from the register's data.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Fact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CertificateFacts(Fact):
    number: str = Field(min_length=1)
    holder: str = Field(min_length=1)
    shares: int = Field(strict=True, gt=0)
    share_class: str = Field(min_length=1)
    issued_at: AwareDatetime
    legends: list[str] = Field(default_factory=list, description="the legends' keys")
    source: str | None = Field(default=None, description="workflow_type:workflow_id")
    escrow_agent: str | None = None
    claimed_lost: bool = False


class Holding(Fact):
    holder: str = Field(min_length=1)
    name: str
    address: str
    shares: dict[str, int] = Field(description="share class → shares outstanding of record")
    certificates: list[CertificateFacts]


class RegisterFacts(Fact):
    """The register as of ``as_of``: holders of record are the distinct holders of at least
    one outstanding certificate (BYL Art. V §9, Art. VI §1)."""

    as_of: AwareDatetime
    holders_of_record: int = Field(strict=True, ge=0)
    shares_outstanding: dict[str, int]
    certificates_outstanding: int = Field(strict=True, ge=0)
