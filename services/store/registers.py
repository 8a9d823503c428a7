"""The valuation and plan registers: what the Board determined and when a plan was adopted.

Both are append-only (a trigger refuses UPDATE and DELETE): a determination is superseded by a
later one, never changed. Recording the same entry again is accepted and changes nothing (a
retried request); a different entry under the same key is refused (``Conflict``). Each
recording is an audit entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

import asyncpg

from services.store import audit

Method = Literal["closing_price", "mean_of_bid_and_ask", "board_good_faith"]


@dataclass(frozen=True)
class Valuation:
    """FMP §4(a)(ii): the Board's determination of fair market value, effective on a day."""

    effective_on: date
    price_per_share: Decimal
    method: Method
    resolution: str


@dataclass(frozen=True)
class Plan:
    """RD Plan ¶5: when the plan was adopted by the Board and approved by the shareholders."""

    plan: str
    board_adopted_on: date | None
    shareholders_approved_on: date | None


class Conflict(Exception):
    """Another entry is recorded under the same key."""

    def __init__(self, recorded: dict[str, Any]) -> None:
        super().__init__(f"already recorded: {recorded}")
        self.recorded = recorded


_INSERT_VALUATION = """
INSERT INTO valuations (company_id, effective_on, price_per_share, method, resolution,
                        recorded_by)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (company_id, effective_on) DO NOTHING
"""
_VALUATION = """
SELECT effective_on, price_per_share, method, resolution FROM valuations
WHERE company_id = $1 AND effective_on = $2
"""
_INSERT_PLAN = """
INSERT INTO plans (company_id, plan, board_adopted_on, shareholders_approved_on, recorded_by)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (company_id, plan) DO NOTHING
"""
_PLAN = """
SELECT plan, board_adopted_on, shareholders_approved_on FROM plans
WHERE company_id = $1 AND plan = $2
"""
_VALUATIONS = """
SELECT effective_on, price_per_share, method, resolution FROM valuations
WHERE company_id = $1 ORDER BY effective_on
"""


async def record_valuation(
    pool: asyncpg.Pool, company_id: str, v: Valuation, *, by: str | None
) -> bool:
    """Record a determination; True if new, False if the same one was recorded before."""
    async with pool.acquire() as c, c.transaction():
        added = await c.execute(
            _INSERT_VALUATION, company_id, v.effective_on, v.price_per_share, v.method,
            v.resolution, by,
        )  # fmt: skip
        if added == "INSERT 0 0":
            row = dict(await c.fetchrow(_VALUATION, company_id, v.effective_on) or {})
            if Valuation(**row) != v:
                raise Conflict(row)
            return False
        detail = {**asdict(v), "effective_on": v.effective_on.isoformat(),
                  "price_per_share": f"{v.price_per_share:f}"}  # fmt: skip
        await audit.record(c, company_id, "fmv_determined", by, detail)
        return True


async def valuations(pool: asyncpg.Pool, company_id: str) -> list[Valuation]:
    return [Valuation(**dict(r)) for r in await pool.fetch(_VALUATIONS, company_id)]


async def record_plan(pool: asyncpg.Pool, company_id: str, p: Plan, *, by: str | None) -> bool:
    """Record a plan's dates; True if new, False if the same were recorded before."""
    async with pool.acquire() as c, c.transaction():
        added = await c.execute(
            _INSERT_PLAN, company_id, p.plan, p.board_adopted_on, p.shareholders_approved_on, by
        )
        if added == "INSERT 0 0":
            row = dict(await c.fetchrow(_PLAN, company_id, p.plan) or {})
            if Plan(**row) != p:
                raise Conflict(row)
            return False
        detail = {
            "plan": p.plan,
            "board_adopted_on": p.board_adopted_on and p.board_adopted_on.isoformat(),
            "shareholders_approved_on": p.shareholders_approved_on
            and p.shareholders_approved_on.isoformat(),
        }
        await audit.record(c, company_id, "plan_recorded", by, detail)
        return True
