"""The ROFR's persisted data, version 3, and how rows of versions 1 and 2 become one.

Version 1: the rows written before rows carried a version. Version 2 adds ``schema_version``
and is otherwise the same shape. Version 3 adds the kit's ``timeline`` (the acts with their
effective times, ``workflows.kit.timeline``); a row of an earlier version has none, and the
kit starts its timeline from the row as stored: acts recorded before the upgrade are not
reordered, those after it are judged by their effective times. Times are ISO 8601 text; the
nested records (notices, deadlines, elections, sales) are as the rules write them.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from workflows.kit.data import DataSchema

Record = dict[str, Any]


class RofrData(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    schema_version: Literal[3]
    terms_id: str | None = None
    family: str | None = None
    holder: str | None = None
    holder_name: str | None = None
    certificates: list[str] | None = None
    shares: int | None = None
    transfer_type: str | None = None
    transferees: list[Record] | None = None
    transferee: Record | None = None
    consideration: Record | None = None
    price_basis: str | None = None
    escrow: bool | None = None
    compliance_proof: str | None = None
    bona_fide_evidence: str | None = None
    signed_by: list[Record] | None = None
    binding_commitment: bool | None = None
    transfer_notice: Record | None = None
    notice_dated: str | None = None
    notice_dated_from: str | None = None
    deadlines: dict[str, Record] | None = None
    # the company's election
    elections: list[Record] | None = None
    elected_shares: int | None = None
    assignees: list[Record] | None = None
    assignee_waivers: list[Record] | None = None
    waived: Record | None = None
    rejection: Record | None = None
    owner_choice: Record | None = None
    purchase_shares: int | None = None
    pay_cash_value: bool | None = None
    fair_market_value_per_share: str | None = None
    cash_equivalent: Record | None = None
    valuation: Record | None = None
    closing: Record | None = None
    # the owner's sale
    sale_window: Record | None = None
    sale: Record | None = None
    sales: list[Record] | None = None
    sold_shares: int | None = None
    reattached_shares: int | None = None
    assurances: Record | None = None
    approved: Record | None = None
    lapse: Record | None = None
    previous_notices: list[Record] | None = None
    # an exempt transfer
    exempt_category: str | None = None
    ownership_change: str | None = None
    consent: Record | None = None
    acknowledgment: Record | None = None
    compliance: Record | None = None
    # the acts recorded in the share register (workflows.rofr.recording)
    register_acts: list[str] | None = None
    # the kit's record of acts by effective time, and the reconciliation items
    timeline: Record | None = None


def _v1_to_v2(row: dict[str, Any]) -> dict[str, Any]:
    return dict(row)  # the same shape; the chain stamps the version


def _v2_to_v3(row: dict[str, Any]) -> dict[str, Any]:
    # No act log to rebuild: the kit adopts the stored row as the start of its timeline.
    return dict(row)


SCHEMA = DataSchema(RofrData, current=3, upgrades={1: _v1_to_v2, 2: _v2_to_v3})
