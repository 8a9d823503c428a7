"""A price payable in property: what the company pays in cash instead (FMP §6(d)(iii)).

FMP §6(d)(iii): the company (or its assignees) may pay cash equal to the property's value. No
agreed value within 10 days after receipt of the Disposition Notice → an appraiser chosen
jointly; no joint choice within 20 days after receipt → each side selects one and the two
designate a third, whose appraisal binds (``workflows.rofr.appraisers``); cost shared equally.
Closing then on the *later* of the 30th business day after delivery of the Exercise Notice and
the 15th day after the valuation.
RD ISO ¶11(d) instead lets the company pay the discounted cash equivalent it reasonably
determines: that needs no steps of its own (it comes with the exercise).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kernel import Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.assignees import check_assignee, side
from workflows.rofr.context import JOINT_APPRAISER, VALUE_AGREEMENT, Ctx, Step
from workflows.rofr.valued import needs_appraisal

VALUING = "progress_valuation"  # the chart's event: its sources are the states a value is fixed in


@enforces("rofr.non_cash")
def open_valuation(ctx: Ctx) -> dict[str, Any]:
    """The valuation record a step of FMP §6(d)(iii) acts on; refused where none is open (no
    property price valued by appraisal, not a state it is made in, the value already fixed)."""
    clause = ctx.rofr.non_cash.clause
    check_assignee(ctx)
    if not needs_appraisal(ctx):
        raise Refused(clause, "the price is not payable in property valued by appraisal here")
    if ctx.state not in ctx.legal_in(VALUING):
        raise Refused(
            clause,
            f"no valuation is open while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    valuation: dict[str, Any] = ctx.data["valuation"]
    if valuation["stage"] == "valued":
        raise Refused(
            clause, f"the cash value was already fixed at {valuation['cash_value']}", "wrong_state"
        )
    return valuation


def _settle(ctx: Ctx, step: Step, cash_value: str, valued_at: str) -> None:
    # Valued after the exercise, the chart takes the purchase on to closing.
    ctx.data["valuation"].update(stage="valued", cash_value=cash_value, valued_at=valued_at)
    step.cancel_timers.extend([VALUE_AGREEMENT, JOINT_APPRAISER])


def _consent(
    ctx: Ctx, valuation: dict[str, Any], key: str, value: str, match: str, at: datetime
) -> dict[str, Any] | None:
    """Record one side's consent to ``value``; the other side's, if it consented to the same.

    FMP §6(d)(iii): the cash value is one "the Owner and the Company (or its assignees)" agree,
    and the joint appraiser one "selected by the Owner and the Company (or its assignees)": one
    side alone only proposes; the agreement is made when the other side consents to the same.
    """
    mine = side(ctx)
    theirs = "owner" if mine == "company" else "company"
    consents: dict[str, dict[str, Any]] = valuation.setdefault(key, {})
    consents[mine] = {
        "value": value,
        "match": match,
        "at": at.isoformat(),
        "by": ctx.actor_record(),
    }
    other = consents.get(theirs)
    return other if other is not None and other["match"] == match else None


def _proposed(ctx: Ctx, type_: str, at: datetime, **what: str) -> Step:
    step = Step("progress_valuation")
    step.event(
        type_,
        **what,
        at=at.isoformat(),
        by=ctx.actor_record(),
        side=side(ctx),
        awaiting="the Company (or its assignees)" if side(ctx) == "owner" else "the owner",
        clause=ctx.rofr.non_cash.clause,
    )
    return step


def _later(at: datetime, other: dict[str, Any]) -> datetime:
    """An agreement is made when the second side consents."""
    return max(at, datetime.fromisoformat(other["at"]))


@enforces("rofr.non_cash")
def agree_cash_value(ctx: Ctx, cmd: c.AgreeCashValue) -> Step:
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    cash_value = cmd.cash_value
    agreed_at = ctx.fact_time("agreed_at", cmd.agreed_at, clause)
    mark = ctx.must_deadline(VALUE_AGREEMENT)
    if mark.passed(agreed_at):
        raise ctx.late(clause, "the agreement on the cash value", agreed_at, mark)
    match = format(cash_value.normalize(), "f")
    other = _consent(ctx, valuation, "value_consents", str(cash_value), match, agreed_at)
    if other is None:
        return _proposed(ctx, "cash_value_proposed", agreed_at, cash_value=str(cash_value))
    when = _later(agreed_at, other).isoformat()
    step = Step("progress_valuation")
    step.event(
        "cash_value_agreed",
        cash_value=str(cash_value),
        agreed_at=when,
        by=ctx.actor_record(),
        agreed_with=other["by"],
        clause=clause,
    )
    _settle(ctx, step, str(cash_value), when)
    return step


@enforces("rofr.non_cash")
def appoint_joint_appraiser(ctx: Ctx, cmd: c.AppointJointAppraiser) -> Step:
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    appraiser = cmd.appraiser
    appointed_at = ctx.fact_time("appointed_at", cmd.appointed_at, clause)
    mark = ctx.must_deadline(JOINT_APPRAISER)
    if mark.passed(appointed_at):
        raise ctx.late(clause, "the choice of a joint appraiser", appointed_at, mark)
    match = " ".join(appraiser.casefold().split())
    other = _consent(ctx, valuation, "appraiser_consents", appraiser, match, appointed_at)
    if other is None:
        return _proposed(ctx, "joint_appraiser_proposed", appointed_at, appraiser=appraiser)
    valuation.update(stage="appraisal", appraisers={"joint": appraiser})
    step = Step("progress_valuation", cancel_timers=[VALUE_AGREEMENT, JOINT_APPRAISER])
    step.event(
        "joint_appraiser_appointed",
        appraiser=appraiser,
        appointed_at=_later(appointed_at, other).isoformat(),
        by=ctx.actor_record(),
        agreed_with=other["by"],
        clause=clause,
    )
    return step


def _binding(valuation: dict[str, Any]) -> str:
    """The appraiser whose appraisal fixes the value: the joint one, or the third designated by
    the two sides' appraisers (a row of the retired ``appoint_appraisers`` names no
    ``binding``: there too the third's)."""
    appraisers: dict[str, str] = valuation.get("appraisers") or {}
    key = valuation.get("binding") or ("joint" if "joint" in appraisers else "third_appraiser")
    return appraisers[key]


def _same(a: str, b: str) -> bool:
    return " ".join(a.casefold().split()) == " ".join(b.casefold().split())


@enforces("rofr.non_cash")
def record_valuation(ctx: Ctx, cmd: c.RecordValuation) -> Step:
    """FMP §6(d)(iii): the valuation "made by" the joint appraiser, or the third appraiser's,
    "whose appraisal shall be determinative of such value": the value is fixed by that
    appraisal alone; an appraisal by either side's own appraiser fixes nothing."""
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    if valuation["stage"] != "appraisal":
        waiting = (
            "the third appraiser is not yet designated by the two sides' appraisers"
            if valuation.get("selections")
            else "no appraiser has been appointed yet"
        )
        raise Refused(clause, waiting, "wrong_state")
    binding = _binding(valuation)
    if cmd.appraiser is not None and not _same(cmd.appraiser, binding):
        raise Refused(
            clause,
            f"only the appraisal of {binding} determines the value, not {cmd.appraiser}'s",
            "not_authorised",
        )
    cash_value = cmd.cash_value
    valued_at = ctx.fact_time("valued_at", cmd.valued_at, clause)
    step = Step("progress_valuation")
    step.event(
        "cash_value_determined",
        cash_value=str(cash_value),
        valued_at=valued_at.isoformat(),
        appraised_by=binding,
        appraisers=valuation.get("appraisers"),
        clause=clause,
    )
    _settle(ctx, step, str(cash_value), valued_at.isoformat())
    return step


@enforces("rofr.non_cash")
def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    valuation = ctx.data.get("valuation") or {}
    if ctx.state not in ctx.legal_in(VALUING):
        return None
    step = Step("valuation_deadline_passed")
    clause = ctx.rofr.non_cash.clause
    if timer.name == VALUE_AGREEMENT and valuation.get("stage") == "negotiating":
        valuation["stage"] = "joint_appraiser"
        step.event("cash_value_agreement_deadline_passed", next="joint appraiser", clause=clause)
        return step
    if timer.name == JOINT_APPRAISER and valuation.get("stage") in (
        "negotiating",
        "joint_appraiser",
    ):
        valuation["stage"] = "three_appraisers"
        step.event(
            "joint_appraiser_deadline_passed",
            next="each side selects its own appraiser; the two designate a third",
            clause=clause,
        )
        return step
    return None
