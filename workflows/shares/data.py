"""The share register's persisted data, version 1. Instants are ISO text with their offset.

``certificates``: number → the certificate as issued, with ``cancelled`` once cancelled (BYL
Art. V §9: "the number and date of cancellation of every certificate surrendered").
``holders``: id → name, address (BYL Art. VI §1). ``transfers``: each transfer recorded on the
books (BYL Art. VIII §2). ``sources``: the acts of other workflows already recorded.
``voided``: the acts of other workflows held void (FMP §6(i), RD ISO ¶11(f)): reversed if
recorded, refused if they come later. A certificate may carry the ``watch`` of RD ISO ¶14.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from workflows.kit.data import DataSchema

Record = dict[str, Any]


class RegisterData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[1]
    terms_id: str | None = None
    opened_at: str | None = None
    kept_by: str | None = None
    kept_at: str | None = None
    share_classes: list[str] | None = None
    next_number: int | None = None
    signatures: list[Record] | None = None
    holders: dict[str, Record] | None = None
    certificates: dict[str, Record] | None = None
    transfers: list[Record] | None = None
    sources: dict[str, str] | None = None
    voided: dict[str, Record] | None = None
    deadlines: dict[str, Record] | None = None


SCHEMA = DataSchema(RegisterData, current=1)
