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

from workflows.kernel import Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.alternative_a import refuse_waiver_after_a, written_choice_of_a
from workflows.rofr.assignees import acting_assignee, assignee_names, check_assignee
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


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def _purchase_agreed(ctx: Ctx, rule: str) -> Refused:
    """Why no further election is open once the company's purchase is settled."""
    choice = ctx.data.get("owner_choice") or {}
    pe = ctx.rofr.partial_exercise
    if choice.get("alternative") == "sale_to_company" and pe is not None:
        # FMP §6(d)(v)(B): the owner sells the company the part it elected; only a waiver can
        # get here (a timely exercise for more is taken: the company's 30 days run on).
        how = (
            "by not answering in time, the owner is deemed to have chosen"
            if choice.get("deemed")
            else "the owner chose"
        )
        clause = pe.on_silence.clause if choice.get("deemed") else pe.owner_choice.clause
        return Refused(
            clause,
            f"{how} to sell the elected {ctx.data['purchase_shares']} of the "
            f"{ctx.data['shares']} shares to the company under {clause}(B): that purchase is "
            "agreed and a waiver changes nothing; the company may still exercise for the rest "
            "within its 30 days",
            "wrong_state",
        )
    return Refused(
        rule,
        f"the right was already exercised for all the {ctx.data['shares']} shares",
        "wrong_state",
    )


def _exercisable(ctx: Ctx, rule: str, act: str = "exercise") -> None:
    if act == "exercise" and ctx.state in ("valuation", "closing") and b_chosen(ctx):
        return  # FMP §6(d)(iii): the company's 30 days for "any or all" run on after (B)
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
    name = acting_assignee(ctx)
    if name is not None and name in _assignee_waivers(ctx):
        raise Refused(rule, f"{name} waived its election on this notice", "wrong_state")
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
    check_assignee(ctx)
    to_owner = ctx.owner_notice_party()
    eff = ctx.notice("exercise_notice", rule, cmd.notice)
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
    superseded = None
    after_b = ctx.state in ("valuation", "closing")
    if full or not (written_choice_of_a(ctx) or after_b):
        superseded = ctx.data.pop("owner_choice", None)
        step.cancel_timers.append(SALE_WINDOW)
    # else a written (A) stands: it is a sale of all the Target Shares to the third party whatever
    # part the company elected, so the choice and its sale window stand (see alternative_a); or
    # after (B) the part the company buys grows (the chart sets the closing afresh).
    step.event(
        "rofr_exercised",
        by=ctx.actor_record(),
        shares=shares,
        elected_shares=elected + shares,
        target_shares=target,
        scope="all" if full else "part",
        entered_after_deadline=deadline.passed(ctx.now),
        notice=record,
        **({"superseded_choice": superseded} if superseded else {}),
    )
    if after_b:
        ctx.data["purchase_shares"] = elected + shares
    if not full:
        if "owner_choice" not in ctx.data:
            deem_choice_if_passed(ctx, step, eff.at)
        return step
    ctx.data["purchase_shares"] = target
    step.cancel_timers.extend([ELECTION, OWNER_CHOICE])
    return step


def _assignee_waivers(ctx: Ctx) -> set[str]:
    return {w["name"] for w in ctx.data.get("assignee_waivers") or []}


@enforces("rofr.assignable")
def _waive_for_assignee(ctx: Ctx, name: str, record: dict[str, object]) -> Step:
    """An assignee waives only its own election: the company and any other assignee keep
    theirs (FMP §6(d)(iii) "the Company (or its assignees)"; RD ISO ¶11(h) "one or more")."""
    waiver = {"name": name, "by": ctx.actor_record(), "notice": record}
    ctx.data.setdefault("assignee_waivers", []).append(waiver)
    step = Step("waive_for_assignee")
    step.event(
        "rofr_waived_by_assignee",
        assignee=name,
        by=ctx.actor_record(),
        notice=record,
        clause=ctx.rofr.assignable.clause,
    )
    return step


@enforces("rofr.election_window")
def waive_rofr(ctx: Ctx, cmd: c.WaiveRofr) -> Step:
    rule = ctx.rofr.election_window.clause
    _exercisable(ctx, rule, "waive")
    if written_choice_of_a(ctx):
        raise refuse_waiver_after_a(ctx)
    check_assignee(ctx)
    eff = ctx.notice("waiver_notice", rule, cmd.notice)
    record = eff.record(ctx.party, ctx.owner_notice_party())
    name = acting_assignee(ctx)
    if name is not None:
        return _waive_for_assignee(ctx, name, record)
    ctx.data["waived"] = {"by": ctx.actor_record(), "notice": record}
    step = Step("waive", cancel_timers=[ELECTION, VALUE_AGREEMENT, JOINT_APPRAISER])
    step.event("rofr_waived", by=ctx.actor_record(), notice=record, clause=rule)
    return step


def _names_to_assign(ctx: Ctx, cmd: c.AssignRofr, clause: str) -> list[str]:
    if (cmd.assignee is None) == (cmd.assignees is None):
        raise Refused(
            clause, "give payload.assignee or payload.assignees (one of them)", "invalid_payload"
        )
    names = [cmd.assignee] if cmd.assignee is not None else list(cmd.assignees or [])
    held = assignee_names(ctx)
    again = [n for n in names if n in held] or [n for n in names if names.count(n) > 1]
    if again:
        raise Refused(clause, f"{again[0]} is already an assignee of the right")
    return names


@enforces("rofr.assignable")
def assign_rofr(ctx: Ctx, cmd: c.AssignRofr) -> Step:
    """FMP §16(c): "at any time"; RD ISO ¶11(h): "at any time, whether or not the Optionee has
    attempted a transfer, to one (1) or more persons": in any state until the right is spent
    (the purchase paid, the shares sold, the right lapsed or the transfer refused)."""
    clause = ctx.rofr.assignable.clause
    if not ctx.rofr.assignable.value:
        raise Refused(clause, "these terms do not let the company assign the right")
    if ctx.state not in ctx.legal_in(ASSIGNABLE):
        raise Refused(
            clause,
            f"the right cannot be assigned while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    names = _names_to_assign(ctx, cmd, clause)
    recorded = [
        {"name": n, "by": ctx.actor_record(), "recorded_at": ctx.now.isoformat()} for n in names
    ]
    ctx.data.setdefault("assignees", []).extend(recorded)
    step = Step("assign")
    step.event(
        "rofr_assigned", assignee=names[0], assignees=names, by=ctx.actor_record(), clause=clause
    )
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
