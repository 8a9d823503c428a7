"""The company's election: exercise (in full or in part), waiver, assignment, the owner's choice.

FMP §6(d)(iii): the Company (or its assignees) may buy any or all Target Shares by an Exercise
Notice delivered within 30 days after receipt of the Disposition Notice. FMP §6(d)(v): after an
exercise for part, the owner chooses within 30 days after the date of the Disposition Notice
to sell all to the third party (A) or the elected part to the Company (B); silence means (A).
RD ISO ¶11(d): all, but not less than all, within 30 days after delivery of the Transfer
Notice. FMP §16(c), RD ISO ¶11(h): the right may be assigned.

Timeliness is judged by the *effective* time of the notice, not by when it was entered: an
Exercise Notice effective before the election deadline but entered after the deadline's timer
fired is accepted as long as no third-party sale has been recorded since.
"""

from __future__ import annotations

from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.alternative_a import (
    chose_a_before,
    refuse_election_after_a,
    written_choice_of_a,
)
from workflows.rofr.context import (
    ELECTION,
    JOINT_APPRAISER,
    OWNER_CHOICE,
    SALE_WINDOW,
    VALUE_AGREEMENT,
    Ctx,
    Step,
)
from workflows.rofr.owner_choice import b_chosen, deem_choice_if_passed

# The chart's events whose sources are the states an election, or an assignment, is open in.
EXERCISABLE = "exercise"
ASSIGNABLE = "assign"


@enforces("rofr.assignable")
def _check_assignee(ctx: Ctx) -> None:
    if ctx.party is not Party.ASSIGNEE:
        return
    name = ctx.actor.name if ctx.actor else ""
    if name not in {a["name"] for a in ctx.data.get("assignees", [])}:
        raise Refused(
            ctx.rofr.assignable.clause,
            f"{name or 'this assignee'} holds no assignment of the right "
            "(the company records one with assign_rofr)",
            "not_authorised",
        )


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def _purchase_agreed(ctx: Ctx, rule: str) -> Refused:
    """Why no further election is open once the company's purchase is settled."""
    choice = ctx.data.get("owner_choice") or {}
    pe = ctx.rofr.partial_exercise
    if choice.get("alternative") == "sale_to_company" and pe is not None:
        # FMP §6(d)(v)(B): the owner sells the company the part it elected, and no more; the
        # company's election ended with that choice.
        how = (
            "by not answering in time, the owner is deemed to have chosen"
            if choice.get("deemed")
            else "the owner chose"
        )
        clause = pe.on_silence.clause if choice.get("deemed") else pe.owner_choice.clause
        return Refused(
            clause,
            f"{how} to sell the elected {ctx.data['purchase_shares']} of the "
            f"{ctx.data['shares']} shares to the company under {clause}(B); the election is "
            "closed",
            "wrong_state",
        )
    return Refused(
        rule,
        f"the right was already exercised for all the {ctx.data['shares']} shares",
        "wrong_state",
    )


def _exercisable(ctx: Ctx, rule: str, act: str = "exercise") -> None:
    if ctx.state in ("valuation", "closing", "escrow_settlement", "repurchased"):
        raise _purchase_agreed(ctx, rule)
    if ctx.state == "transfer_pending_approval":
        raise Refused(
            rule, "a transfer to the transferee has been reported for approval", "wrong_state"
        )
    if ctx.state not in ctx.legal_in(EXERCISABLE):
        raise Refused(
            rule,
            f"no election is open while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    if ctx.data.get("waived"):
        raise Refused(rule, "the right was waived for this notice", "wrong_state")
    sales = ctx.data.get("sales")
    if sales:
        # A timely notice entered late still counts only while no sale has been recorded: the
        # shares sold are the buyer's.
        raise Refused(
            rule,
            f"{ctx.data['sold_shares']} of the {ctx.data['shares']} shares were sold to a third "
            f"party on {ctx.cal.fmt(ctx.instant('sales', 0, 'sold_at'))}: the right can "
            f"no longer be {'exercised' if act == 'exercise' else 'waived'} on this notice",
            "wrong_state",
        )


@enforces("rofr.non_cash.method", "rofr.requirements.price_when_absent")
def _price_terms(ctx: Ctx, cmd: c.ExerciseRofr) -> None:
    """Record what the company pays where the notice states no cash price."""
    req, nc = ctx.rofr.requirements, ctx.rofr.non_cash
    if ctx.data.get("price_basis") == "fair_market_value_determined_by_company":
        assert req.price_when_absent
        if cmd.price_per_share is None:
            raise Refused(
                req.price_when_absent.clause,
                "payload.price_per_share must be an amount (a number or a decimal string)",
                "invalid_payload",
            )
        ctx.data["fair_market_value_per_share"] = str(cmd.price_per_share)
    if ctx.data["consideration"]["form"] != "property":
        return
    if nc.method == "appraisal":
        ctx.data["pay_cash_value"] = (cmd.payment or "cash_value") == "cash_value"
    else:
        value = cmd.cash_equivalent
        if value is not None:
            ctx.data["cash_equivalent"] = {"amount": str(value), "clause": nc.clause}


@enforces("rofr.election_scope")
def all_elected(ctx: Ctx) -> bool:
    """Guard: the company (with its assignees) has elected all the shares of the notice."""
    return bool(ctx.data["elected_shares"] == ctx.data["shares"])


@enforces("rofr.election_scope", "rofr.partial_exercise.owner_choice")
def company_buys(ctx: Ctx) -> bool:
    """Guard: the company buys, having elected all the shares, or the part it elected with the
    owner's choice of (B) standing (FMP §6(d)(v))."""
    return all_elected(ctx) or b_chosen(ctx)


@enforces("rofr.election_scope", "rofr.election_window", "rofr.non_cash")
def exercise_rofr(ctx: Ctx, cmd: c.ExerciseRofr) -> Step:
    rofr = ctx.rofr
    rule = rofr.election_window.clause
    _exercisable(ctx, rule)
    _check_assignee(ctx)
    to_owner = ctx.owner_notice_party()
    eff = ctx.notice("exercise_notice", rule, cmd.notice)
    if chose_a_before(ctx, eff.at):
        raise refuse_election_after_a(ctx, "exercise")
    deadline = ctx.must_deadline(ELECTION)
    if deadline.passed(eff.at):
        raise ctx.late(rule, "the notice of exercise", eff.at, deadline)
    if eff.at < ctx.instant("transfer_notice", "effective_at"):
        raise Refused(rule, "the notice of exercise took effect before the transfer notice")
    target, elected = ctx.data["shares"], ctx.data["elected_shares"]
    remaining = target - elected
    shares = remaining if cmd.shares is None else cmd.shares
    if shares > remaining:
        raise Refused(rule, f"only {remaining} of the {target} shares remain to elect")
    scope = rofr.election_scope
    if scope.value == "all_only" and shares != target:
        raise Refused(
            scope.clause,
            f"the right is for all, but not less than all, of the {target} shares",
        )
    _price_terms(ctx, cmd)
    record = eff.record(ctx.party, to_owner)
    ctx.data["elections"].append({"by": ctx.actor_record(), "shares": shares, "notice": record})
    ctx.data["elected_shares"] = elected + shares
    full = elected + shares == target
    step = Step("exercise")
    if full or not written_choice_of_a(ctx):
        ctx.data.pop("owner_choice", None)
        step.cancel_timers.append(SALE_WINDOW)
    # else it took effect before the owner's written (A) (a later one was refused above): (A)
    # means all the Target Shares go to the third party whatever part the company elected, so
    # the choice and its sale window stand (see alternative_a).
    step.event(
        "rofr_exercised",
        by=ctx.actor_record(),
        shares=shares,
        elected_shares=elected + shares,
        target_shares=target,
        scope="all" if full else "part",
        entered_after_deadline=deadline.passed(ctx.now),
        notice=record,
    )
    if not full:
        if "owner_choice" not in ctx.data:
            deem_choice_if_passed(ctx, step, eff.at)
        return step
    ctx.data["purchase_shares"] = target
    step.cancel_timers.extend([ELECTION, OWNER_CHOICE])
    return step


@enforces("rofr.election_window")
def waive_rofr(ctx: Ctx, cmd: c.WaiveRofr) -> Step:
    rule = ctx.rofr.election_window.clause
    _exercisable(ctx, rule, "waive")
    if written_choice_of_a(ctx):
        raise refuse_election_after_a(ctx, "waive")
    _check_assignee(ctx)
    eff = ctx.notice("waiver_notice", rule, cmd.notice)
    record = eff.record(ctx.party, ctx.owner_notice_party())
    ctx.data["waived"] = {"by": ctx.actor_record(), "notice": record}
    step = Step("waive", cancel_timers=[ELECTION, VALUE_AGREEMENT, JOINT_APPRAISER])
    step.event("rofr_waived", by=ctx.actor_record(), notice=record, clause=rule)
    return step


@enforces("rofr.assignable")
def assign_rofr(ctx: Ctx, cmd: c.AssignRofr) -> Step:
    clause = ctx.rofr.assignable.clause
    if not ctx.rofr.assignable.value:
        raise Refused(clause, "these terms do not let the company assign the right")
    if ctx.state not in ctx.legal_in(ASSIGNABLE):
        raise Refused(
            clause,
            f"the right cannot be assigned while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    assignee = cmd.assignee
    entry = {"name": assignee, "by": ctx.actor_record(), "recorded_at": ctx.now.isoformat()}
    ctx.data.setdefault("assignees", []).append(entry)
    step = Step("assign")
    step.event("rofr_assigned", assignee=assignee, by=ctx.actor_record(), clause=clause)
    return step


def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name == ELECTION and ctx.state in ctx.legal_in("election_expired"):
        # Nothing elected: the owner's sale window opens (the chart's move) and no value of a
        # non-cash price is needed. After an exercise for part, the owner's choice runs on.
        step = Step("election_expired")
        if ctx.state == "election_window":
            step.cancel_timers.extend([VALUE_AGREEMENT, JOINT_APPRAISER])
        step.event(
            "election_window_expired",
            deadline=ctx.must_deadline(ELECTION).as_dict(),
            elected_shares=ctx.data["elected_shares"],
        )
        return step
    return None
