"""Where the valuation of a non-cash price stands (FMP §6(d)(iii)): read by the election, the
closing and the valuation rules alike, so it sits below all three."""

from __future__ import annotations

from workflows.kit.clauses import enforces
from workflows.rofr.context import Ctx


@enforces("rofr.non_cash.method")
def needs_appraisal(ctx: Ctx) -> bool:
    v = ctx.data.get("valuation")
    return bool(v) and ctx.rofr.non_cash.method == "appraisal"


def is_valued(ctx: Ctx) -> bool:
    v = ctx.data.get("valuation") or {}
    return v.get("stage") == "valued"
