"""Three appraisers when no joint one was agreed in time (FMP §6(d)(iii)).

FMP §6(d)(iii): "if they cannot agree on an appraiser within 20 days after the Company's receipt
of the Disposition Notice, each shall select an appraiser of recognized standing and the two
appraisers shall designate a third appraiser of recognized standing, whose appraisal shall be
determinative of such value. The cost of such appraisal shall be shared equally by the Owner and
the Company." So the owner selects the owner's appraiser and "the Company (or its assignees)"
the company's, each with its own command, neither the other's; the third is the two
appraisers' choice, recorded once both are selected; only the third's appraisal then fixes the
value (``valuation.record_valuation``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from workflows.kernel import Party, Refused
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.assignees import COMPANY_SIDE, side
from workflows.rofr.context import JOINT_APPRAISER, VALUE_AGREEMENT, Ctx, Step
from workflows.rofr.valuation import open_valuation
from workflows.terms import Cited

SELECT_OWNER, SELECT_COMPANY = "select_owner_appraiser", "select_company_appraiser"
RECORD_THIRD, RETIRED = "record_third_appraiser", "appoint_appraisers"
#: The two sides of FMP §6(d)(iii), each selecting its own appraiser.
SIDES = {"owner": "the owner", "company": "the Company (or its assignees)"}


def _after_the_20_days(ctx: Ctx, when: datetime, what: str) -> None:
    mark = ctx.must_deadline(JOINT_APPRAISER)
    if not mark.passed(when):
        raise Refused(
            ctx.rofr.non_cash.clause,
            f"{what} only when no joint appraiser is agreed: owner and company have until "
            f"{ctx.cal.fmt(mark.at)} to agree one ({mark.derivation})",
            "too_early",
        )


def _not_yet_appointed(ctx: Ctx, valuation: dict[str, Any]) -> None:
    if valuation["stage"] == "appraisal":
        names = ", ".join(valuation.get("appraisers", {}).values())
        raise Refused(
            ctx.rofr.non_cash.clause,
            f"the appraisal is already in hand ({names})",
            "wrong_state",
        )


def _select(ctx: Ctx, cmd: c.SelectAppraiser, whose: str) -> Step:
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    if side(ctx) != whose:
        mine = "select_owner_appraiser" if side(ctx) == "owner" else "select_company_appraiser"
        raise Refused(
            clause,
            f"each side selects its own appraiser: {SIDES[side(ctx)]} may not select "
            f"{SIDES[whose]}'s (its own is selected with {mine})",
            "not_authorised",
        )
    _not_yet_appointed(ctx, valuation)
    selected_at = ctx.fact_time("selected_at", cmd.selected_at, clause)
    _after_the_20_days(ctx, selected_at, f"{SIDES[whose]} selects an appraiser")
    selections: dict[str, dict[str, Any]] = valuation.setdefault("selections", {})
    if whose in selections:
        raise Refused(
            clause,
            f"{SIDES[whose]} already selected {selections[whose]['appraiser']} "
            f"({selections[whose]['at']})",
            "wrong_state",
        )
    selections[whose] = {
        "appraiser": cmd.appraiser,
        "at": selected_at.isoformat(),
        "by": ctx.actor_record(),
    }
    other = next(s for s in SIDES if s != whose)
    step = Step("progress_valuation")
    step.event(
        "appraiser_selected",
        side=whose,
        appraiser=cmd.appraiser,
        selected_at=selected_at.isoformat(),
        by=ctx.actor_record(),
        awaiting=f"{SIDES[other]}'s appraiser"
        if other not in selections
        else "the two appraisers' designation of a third",
        clause=clause,
    )
    return step


@enforces("rofr.non_cash")
def select_owner_appraiser(ctx: Ctx, cmd: c.SelectAppraiser) -> Step:
    """FMP §6(d)(iii): the owner selects its appraiser, and only the owner."""
    return _select(ctx, cmd, "owner")


@enforces("rofr.non_cash")
def select_company_appraiser(ctx: Ctx, cmd: c.SelectAppraiser) -> Step:
    """FMP §6(d)(iii): the Company (its Board, or a recorded assignee) selects its appraiser."""
    return _select(ctx, cmd, "company")


@enforces("rofr.non_cash")
def record_third_appraiser(ctx: Ctx, cmd: c.RecordThirdAppraiser) -> Step:
    """FMP §6(d)(iii): "the two appraisers shall designate a third appraiser".

    The designation is the two appraisers' act, not a party's: neither side chooses the third
    nor must consent to it, and the appraisers send no commands. So either side records it, as
    the record of what the appraisers did, once both sides' appraisers are selected (before
    that there are not two appraisers to designate anyone). It is recorded once.
    """
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    _not_yet_appointed(ctx, valuation)
    designated_at = ctx.fact_time("designated_at", cmd.designated_at, clause)
    selections = valuation.get("selections") or {}
    missing = [SIDES[s] for s in SIDES if s not in selections]
    if missing:
        raise Refused(
            clause,
            "the third appraiser is designated by the owner's and the company's appraisers; "
            f"not yet selected: {' and '.join(missing)}'s",
            "too_early",
        )
    names = {f"{s}_appraiser": selections[s]["appraiser"] for s in SIDES}
    names["third_appraiser"] = cmd.appraiser
    valuation.update(stage="appraisal", appraisers=names, binding="third_appraiser")
    step = Step("progress_valuation", cancel_timers=[VALUE_AGREEMENT, JOINT_APPRAISER])
    non_cash = ctx.rofr.non_cash
    step.event(
        "third_appraiser_designated",
        appraiser=cmd.appraiser,
        designated_at=designated_at.isoformat(),
        designated_by=[names["owner_appraiser"], names["company_appraiser"]],
        recorded_by=ctx.actor_record(),
        binding=bool(non_cash.third_appraiser_binds and non_cash.third_appraiser_binds.value),
        cost_shared_equally=bool(
            non_cash.cost_shared_equally and non_cash.cost_shared_equally.value
        ),
        clause=clause,
    )
    return step


# -- the retired one-sided command -----------------------------------------------------------


@enforces("rofr.non_cash")
def refuse_appoint_appraisers(ctx: Ctx, cmd: c.AppointAppraisers) -> None:
    """Entered from now on, ``appoint_appraisers`` is refused: one party named all three
    appraisers, where FMP §6(d)(iii) has each side select its own and the two designate the
    third."""
    raise Refused(
        ctx.rofr.non_cash.clause,
        "each side selects its own appraiser and the two appraisers designate the third: "
        "send select_owner_appraiser (the owner), select_company_appraiser (the Company or its "
        "assignees) and then record_third_appraiser; appoint_appraisers is retired",
        "not_authorised",
    )


@enforces("rofr.non_cash")
def appoint_appraisers(ctx: Ctx, cmd: c.AppointAppraisers) -> Step:
    """An act of the retired command recorded before its retirement, replayed as it stood
    (the workflow keeps the appraisers it recorded); never entered anew
    (``refuse_appoint_appraisers``)."""
    valuation = open_valuation(ctx)
    clause = ctx.rofr.non_cash.clause
    names = cmd.model_dump(include={"owner_appraiser", "company_appraiser", "third_appraiser"})
    appointed_at = ctx.fact_time("appointed_at", cmd.appointed_at, clause)
    _after_the_20_days(ctx, appointed_at, "three appraisers are appointed")
    valuation.update(stage="appraisal", appraisers=names)
    step = Step("progress_valuation", cancel_timers=[VALUE_AGREEMENT, JOINT_APPRAISER])
    step.event(
        "appraisers_appointed",
        appraisers=names,
        binding="third_appraiser",
        appointed_at=appointed_at.isoformat(),
        clause=clause,
    )
    return step


def parties(ctx: Ctx) -> Mapping[str, Cited[list[Party]]]:
    """Who may send each command: the terms' ``parties``.

    Terms pinned by a workflow before each side selected its own appraiser name
    ``appoint_appraisers`` and none of the commands that replaced it; for them those commands'
    parties are read from its entry (with its clause), each side's selection to that side's
    parties (FMP §6(d)(iii)), the record of the third to all of them.
    """
    named = ctx.rofr.parties
    old = named.get(RETIRED)
    if old is None or any(n in named for n in (SELECT_OWNER, SELECT_COMPANY, RECORD_THIRD)):
        return named
    company = [p for p in old.value if p in COMPANY_SIDE]
    owner = [p for p in old.value if p not in COMPANY_SIDE]
    return {
        **named,
        SELECT_OWNER: Cited[list[Party]](value=owner, clause=old.clause),
        SELECT_COMPANY: Cited[list[Party]](value=company, clause=old.clause),
        RECORD_THIRD: Cited[list[Party]](value=list(old.value), clause=old.clause),
    }
