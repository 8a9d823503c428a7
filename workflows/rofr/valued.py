"""Where the valuation of a non-cash price stands (FMP §6(d)(iii)): read by the election, the
closing and the valuation rules alike, and by the chart's guards, so it sits below all of them."""

from __future__ import annotations

from workflows.kit.clauses import enforces
from workflows.rofr.context import Ctx, Step


@enforces("rofr.non_cash.method")
def needs_appraisal(ctx: Ctx) -> bool:
    v = ctx.data.get("valuation")
    return bool(v) and ctx.rofr.non_cash.method == "appraisal"


@enforces("rofr.non_cash")
def is_valued(ctx: Ctx) -> bool:
    """Guard, FMP §6(d)(iii): the cash value of the non-cash price is fixed."""
    v = ctx.data.get("valuation") or {}
    return v.get("stage") == "valued"


@enforces("rofr.non_cash")
def awaits_valuation(ctx: Ctx) -> bool:
    """Guard, FMP §6(d)(iii): a non-cash price the company pays in cash cannot close before its
    value is fixed."""
    return needs_appraisal(ctx) and ctx.data.get("pay_cash_value", True) and not is_valued(ctx)


@enforces("rofr.non_cash")
def await_valuation(ctx: Ctx, step: Step) -> None:
    """Entering ``valuation``: the closing waits for the cash value (FMP §6(d)(iii))."""
    step.event("closing_awaits_valuation", clause=ctx.rofr.non_cash.clause)
