"""A new grant checked against its plan (RD Plan ¶3–¶7): each check refuses citing its clause,
or returns what it found, so the grant records how it passed ("price $0.22 ≥ 110% of the
Board's FMV $0.20 of 1993-02-15, resolution BR-1993-02").

The facts (the FMV in force, the plan's dates and reserve) come from the engine's register
view; a check whose limit the terms leave null needs none of them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from workflows.grants.commands import GrantOption
from workflows.grants.context import Ctx
from workflows.grants.facts import FairMarketValue, PlanFacts
from workflows.grants.term import anniversary_less_one_day
from workflows.kernel import Refused
from workflows.kit.clauses import enforces

Check = dict[str, str]


def _missing(clause: str, what: str) -> Refused:
    return Refused(
        clause,
        f"the grant must be checked against {what}, which the engine did not provide: record it "
        "in its register first",
        "facts_unavailable",
    )


@enforces("grant.option_types", "grant.eligible")
def option_type(ctx: Ctx, cmd: GrantOption) -> str:
    """The type the terms provide (RD ISO ¶2 / RD NSO ¶2; FMP Certificate), open to the
    optionee's service (RD Plan ¶3: an ISO only to an employee)."""
    g = ctx.grant
    kind = cmd.option_type or (g.option_types.value[0] if len(g.option_types.value) == 1 else "")
    if kind not in g.option_types.value:
        raise Refused(
            g.option_types.clause,
            f"these terms grant {' or '.join(g.option_types.value)} options, not "
            f"{kind or 'an option of no stated type'}",
        )
    eligible = g.eligible[kind]
    if cmd.service not in eligible.value:
        raise Refused(
            eligible.clause,
            f"an {kind.upper()} may be granted only to: {', '.join(eligible.value)}; "
            f"not to a {cmd.service}",
        )
    return kind


@enforces("grant.term", "grant.standard_term_years")
def expiration(ctx: Ctx, cmd: GrantOption) -> tuple[date, Check]:
    """The Option Expiration / Term Date: as stated, or the standard term (RD ISO ¶1(h)); never
    more than 10 years after the grant, 5 for a Ten Percent Owner Optionee (RD Plan ¶6(B))."""
    g = ctx.grant
    standard = g.standard_term_years
    if cmd.expiration_date is not None:
        end = cmd.expiration_date
        how = f"stated: {end}"
    elif standard.value is not None:
        end = anniversary_less_one_day(cmd.grant_date, standard.value)
        how = f"granted {cmd.grant_date}, {standard.value}th anniversary less one day → {end}"
    else:
        raise Refused(standard.clause, "payload.expiration_date is required", "invalid_payload")
    if end <= cmd.grant_date:
        raise Refused(g.term.clause, f"the option would expire on {end}, before it is granted")
    years = g.term.ten_percent_owner_max_years if cmd.ten_percent_owner else g.term.max_years
    if years is not None:
        # "exercisable after the expiration of N years after the date such Option is granted":
        # the last day is the Nth anniversary less one day, as the Option Term Date is counted.
        limit = anniversary_less_one_day(cmd.grant_date, years)
        if end > limit:
            owner = " for a Ten Percent Owner Optionee" if cmd.ten_percent_owner else ""
            raise Refused(
                g.term.clause,
                f"an option{owner} may run at most {years} years: granted {cmd.grant_date}, its "
                f"last day is {limit}, not {end}",
            )
    return end, {"clause": standard.clause if cmd.expiration_date is None else g.term.clause,
                 "text": how}  # fmt: skip


@enforces("grant.price_floor")
def price(ctx: Ctx, cmd: GrantOption, kind: str) -> Check | None:
    """RD Plan ¶6(A): an ISO at no less than 100% of the Board's FMV on the grant date, an NSO
    at 85%, a Ten Percent Owner Optionee's at 110%."""
    floors = ctx.grant.price_floor
    floor = floors.ten_percent_owner if cmd.ten_percent_owner else floors.standard
    if floor is None:
        return None
    fmv = ctx.facts.fmv if ctx.facts else None
    if fmv is None:
        raise _missing(floors.clause, "the Board's fair market value in force on the grant date")
    _fmv_in_force(floors.clause, fmv, cmd.grant_date)
    lowest = floor * fmv.price_per_share
    who = "a Ten Percent Owner Optionee's option" if cmd.ten_percent_owner else kind.upper()
    said = (
        f"{_pct(floor)} of the Board's FMV ${fmv.price_per_share} (determined {fmv.effective_on}, "
        f"{fmv.resolution}, {fmv.method.replace('_', ' ')}) = ${_money(lowest)}"
    )
    if cmd.exercise_price < lowest:
        raise Refused(
            floors.clause,
            f"the exercise price ${cmd.exercise_price} of an {who} is below {said}",
        )
    return {"clause": floors.clause, "text": f"price ${cmd.exercise_price} ≥ {said}"}


def _money(amount: Decimal) -> str:
    cents = amount.quantize(Decimal("0.01"))
    return f"{cents:f}" if cents == amount else f"{amount.normalize():f}"


def _pct(fraction: Decimal) -> str:
    return f"{(fraction * 100).normalize():f}%"


def _fmv_in_force(clause: str, fmv: FairMarketValue, on: date) -> None:
    if fmv.effective_on > on:
        raise Refused(
            clause,
            f"the FMV determination of {fmv.effective_on} ({fmv.resolution}) was not yet in force "
            f"on the grant date {on}",
        )


def _plan(ctx: Ctx, clause: str, what: str) -> PlanFacts:
    plan = ctx.facts.plan if ctx.facts else None
    if plan is None:
        raise _missing(clause, what)
    return plan


@enforces("grant.share_reserve", "grant.repurchased_shares_return")
def reserve(ctx: Ctx, cmd: GrantOption) -> Check | None:
    """RD Plan ¶4: at most 506,280 shares under the plan; shares of expired, terminated or
    cancelled options, and shares the Company repurchased, may be granted again."""
    cited = ctx.grant.share_reserve
    if cited.value is None:
        return None
    plan = _plan(ctx, cited.clause, "the plan's share reserve in use")
    back = ctx.grant.repurchased_shares_return
    returned = plan.shares_repurchased if back is not None and back.value else 0
    committed = max(plan.shares_committed - returned, 0)
    free = cited.value - committed
    since = f" ({returned:,} repurchased by the Company returned)" if returned else ""
    if cmd.shares > free:
        raise Refused(
            cited.clause,
            f"the plan reserves {cited.value:,} shares, {committed:,} are committed{since}: "
            f"{max(free, 0):,} may be granted, not {cmd.shares:,}",
        )
    return {"clause": cited.clause, "text": f"{cmd.shares:,} of {free:,} shares free{since}"}


@enforces("grant.granting_period_years")
def granting_period(ctx: Ctx, cmd: GrantOption) -> Check | None:
    """RD Plan ¶5: within 10 years from the earlier of the Board's adoption and the
    shareholders' approval."""
    cited = ctx.grant.granting_period_years
    if cited.value is None:
        return None
    plan = _plan(ctx, cited.clause, "the plan's adoption date")
    starts = [d for d in (plan.adopted_on, plan.shareholders_approved_on) if d is not None]
    if not starts:
        raise _missing(cited.clause, "the plan's adoption date")
    start = min(starts)
    last = start + relativedelta(years=cited.value)
    if cmd.grant_date >= last:
        raise Refused(
            cited.clause,
            f"options may be granted only within {cited.value} years from {start} (the earlier "
            f"of adoption and approval): not on {cmd.grant_date}",
        )
    return {"clause": cited.clause, "text": f"granted within {cited.value} years from {start}"}
