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

from datetime import date, datetime, time

from workflows.calendar import Deadline
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit import readers as p
from workflows.kit.clauses import enforces
from workflows.rofr.alternative_a import refuse_waiver_after_a, written_choice_of_a
from workflows.rofr.assignees import acting_assignee, assignee_names, check_assignee
from workflows.rofr.closing import awaits_valuation, schedule_closing
from workflows.rofr.context import (
    ELECTION,
    JOINT_APPRAISER,
    OWNER_CHOICE,
    SALE_WINDOW,
    VALUE_AGREEMENT,
    Ctx,
    Step,
)
from workflows.rofr.machine import CHART, describe
from workflows.rofr.sale import open_sale_window

EXERCISABLE = CHART.sources("exercise_all")
CLOSING_AFTER_B = CHART.sources("exercise_after_b")
ASSIGNABLE = CHART.sources("assign")


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


def _chose_b(ctx: Ctx) -> bool:
    choice = ctx.data.get("owner_choice") or {}
    return choice.get("alternative") == "sale_to_company"


def _exercisable(ctx: Ctx, rule: str, act: str = "exercise") -> None:
    if act == "exercise" and ctx.state in CLOSING_AFTER_B and _chose_b(ctx):
        return  # FMP §6(d)(iii): the company's 30 days for "any or all" run on after (B)
    if ctx.state in ("valuation", "closing", "escrow_settlement", "repurchased"):
        raise _purchase_agreed(ctx, rule)
    if ctx.state == "transfer_pending_approval":
        raise Refused(
            rule, "a transfer to the transferee has been reported for approval", "wrong_state"
        )
    if ctx.state not in EXERCISABLE:
        raise Refused(
            rule,
            f"no election is open while the transfer is {describe(ctx.state)}",
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
            f"party on {ctx.cal.fmt(datetime.fromisoformat(sales[0]['sold_at']))}: the right can "
            f"no longer be {'exercised' if act == 'exercise' else 'waived'} on this notice",
            "wrong_state",
        )


@enforces("rofr.non_cash.method", "rofr.requirements.price_when_absent")
def _price_terms(ctx: Ctx) -> None:
    """Record what the company pays where the notice states no cash price."""
    req, nc = ctx.rofr.requirements, ctx.rofr.non_cash
    if ctx.data.get("price_basis") == "fair_market_value_determined_by_company":
        assert req.price_when_absent
        fmv = p.amount(ctx.payload, "price_per_share", req.price_when_absent.clause)
        ctx.data["fair_market_value_per_share"] = str(fmv)
    if ctx.data["consideration"]["form"] != "property":
        return
    if nc.method == "appraisal":
        payment = ctx.payload.get("payment", "cash_value")
        if payment not in ("cash_value", "as_offered"):
            raise Refused(
                nc.clause, "payload.payment must be cash_value or as_offered", "invalid_payload"
            )
        ctx.data["pay_cash_value"] = payment == "cash_value"
    else:
        value = p.optional_amount(ctx.payload, "cash_equivalent", nc.clause)
        if value is not None:
            ctx.data["cash_equivalent"] = {"amount": str(value), "clause": nc.clause}


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def _open_owner_choice(ctx: Ctx, step: Step, exercised_at: datetime) -> None:
    pe = ctx.rofr.partial_exercise
    assert pe is not None
    window = pe.owner_choice
    if window.runs_from == "notice_date":
        # FMP §6(d)(v) counts from the *date of* the Disposition Notice, not its receipt: a notice
        # dated well before it arrived leaves the owner less time, possibly none at all.
        dated = date.fromisoformat(ctx.data["notice_dated"])
        start = datetime.combine(dated, time(12), tzinfo=ctx.cal.zone)
        deadline = ctx.window_end(window, start, ctx.data["notice_dated_from"])
    else:
        eff = datetime.fromisoformat(ctx.data["transfer_notice"]["effective_at"])
        deadline = ctx.window_end(window, eff, ctx.data["transfer_notice"]["derivation"])
    if deadline.passed(exercised_at):
        # The owner's window closed before the company's part exercise took effect: no choice
        # can be timely, so the clause's default applies at once instead of a timer set in the
        # past firing a moment later.
        ctx.data.setdefault("deadlines", {})[OWNER_CHOICE] = deadline.as_dict()
        step.transition = "exercise_part_choice_passed"
        if ctx.state == "owner_sale_window":  # the window the deemed (A) opens stays open
            step.cancel_timers.remove(SALE_WINDOW)
        _choose(ctx, step, pe.on_silence.value, True, None, passed=deadline)
        return
    ctx.set_timer(
        step,
        OWNER_CHOICE,
        deadline,
        Party.OWNER,
        "choose: sell all to the third party (A), or the elected shares to the company (B)",
    )
    step.event(
        "owner_choice_window_opened",
        deadline=deadline.as_dict(),
        on_silence=pe.on_silence.value,
        clause=pe.on_silence.clause,
    )


@enforces("rofr.election_scope", "rofr.election_window", "rofr.non_cash")
def exercise_rofr(ctx: Ctx) -> Step:
    rofr = ctx.rofr
    rule = rofr.election_window.clause
    _exercisable(ctx, rule)
    check_assignee(ctx)
    to_owner = ctx.owner_notice_party()
    eff = ctx.notice("exercise_notice", rule)
    deadline = ctx.must_deadline(ELECTION)
    if deadline.passed(eff.at):
        raise ctx.late(rule, "the notice of exercise", eff.at, deadline)
    if eff.at < datetime.fromisoformat(ctx.data["transfer_notice"]["effective_at"]):
        raise Refused(rule, "the notice of exercise took effect before the transfer notice")
    target, elected = ctx.data["shares"], ctx.data["elected_shares"]
    remaining = target - elected
    shares = p.count(ctx.payload, "shares", rule) if "shares" in ctx.payload else remaining
    if shares > remaining:
        raise Refused(rule, f"only {remaining} of the {target} shares remain to elect")
    scope = rofr.election_scope
    if scope.value == "all_only" and shares != target:
        raise Refused(
            scope.clause,
            f"the right is for all, but not less than all, of the {target} shares",
        )
    _price_terms(ctx)
    record = eff.record(ctx.party, to_owner)
    ctx.data["elections"].append({"by": ctx.actor_record(), "shares": shares, "notice": record})
    ctx.data["elected_shares"] = elected + shares
    full = elected + shares == target
    superseded = None
    if ctx.state in CLOSING_AFTER_B:
        step = Step("exercise_after_b")
        if full:  # an exercise for all the shares: (B), for a part, gives way
            superseded = ctx.data.pop("owner_choice", None)
    elif not full and written_choice_of_a(ctx):
        # The owner's written (A) stands: it is a sale of all the Target Shares to the third
        # party whatever part the company elected, so the choice and its sale window stand (see
        # alternative_a). Only an exercise for all the shares overrides it.
        step = Step("exercise_part_after_choice")
    else:
        superseded = ctx.data.pop("owner_choice", None)
        step = Step("exercise_all" if full else "exercise_part", cancel_timers=[SALE_WINDOW])
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
    if step.transition == "exercise_after_b":
        _grow_purchase_after_b(ctx, step, full)
        return step
    if step.transition == "exercise_part":
        _open_owner_choice(ctx, step, eff.at)
    if not full:
        return step
    ctx.data["purchase_shares"] = target
    step.cancel_timers.extend([ELECTION, OWNER_CHOICE])
    if awaits_valuation(ctx):
        step.transition = "exercise_all_to_value"
        step.event("closing_awaits_valuation", clause=rofr.non_cash.clause)
    else:
        schedule_closing(ctx, step)
    return step


@enforces("rofr.election_scope", "rofr.partial_exercise.owner_choice")
def _grow_purchase_after_b(ctx: Ctx, step: Step, full: bool) -> None:
    """FMP §6(d)(v)(B) sells the company "the portion ... which the Company (or its assignees)
    has elected to purchase"; the company's 30 days for "any or all" (§6(d)(iii)) still run, so
    a further timely election enlarges that portion, and the closing runs from the latest
    Exercise Notice (for all the shares, §6(d)(iii)'s own closing applies)."""
    ctx.data["purchase_shares"] = ctx.data["elected_shares"]
    if full:
        step.cancel_timers.extend([ELECTION, OWNER_CHOICE])
    if not awaits_valuation(ctx):
        schedule_closing(ctx, step)


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
def waive_rofr(ctx: Ctx) -> Step:
    rule = ctx.rofr.election_window.clause
    _exercisable(ctx, rule, "waive")
    if written_choice_of_a(ctx):
        raise refuse_waiver_after_a(ctx)
    check_assignee(ctx)
    eff = ctx.notice("waiver_notice", rule)
    record = eff.record(ctx.party, ctx.owner_notice_party())
    name = acting_assignee(ctx)
    if name is not None:
        return _waive_for_assignee(ctx, name, record)
    ctx.data["waived"] = {"by": ctx.actor_record(), "notice": record}
    step = Step("waive", cancel_timers=[ELECTION, VALUE_AGREEMENT, JOINT_APPRAISER])
    step.event("rofr_waived", by=ctx.actor_record(), notice=record, clause=rule)
    open_sale_window(ctx, step, opens_at=eff.at)
    return step


def _names_to_assign(ctx: Ctx, clause: str) -> list[str]:
    one, several = ctx.payload.get("assignee"), ctx.payload.get("assignees")
    if (one is None) == (several is None):
        raise Refused(
            clause, "give payload.assignee or payload.assignees (one of them)", "invalid_payload"
        )
    if one is not None:
        names = [p.text(ctx.payload, "assignee", clause)]
    else:
        names = [str(n) for n in several or []]
    held = assignee_names(ctx)
    again = [n for n in names if n in held] or [n for n in names if names.count(n) > 1]
    if again:
        raise Refused(clause, f"{again[0]} is already an assignee of the right")
    return names


@enforces("rofr.assignable")
def assign_rofr(ctx: Ctx) -> Step:
    """FMP §16(c): "at any time"; RD ISO ¶11(h): "at any time, whether or not the Optionee has
    attempted a transfer, to one (1) or more persons": in any state until the right is spent
    (the purchase paid, the shares sold, the right lapsed or the transfer refused)."""
    clause = ctx.rofr.assignable.clause
    if not ctx.rofr.assignable.value:
        raise Refused(clause, "these terms do not let the company assign the right")
    if ctx.state not in ASSIGNABLE:
        raise Refused(
            clause,
            f"the right cannot be assigned while the transfer is {describe(ctx.state)}",
            "wrong_state",
        )
    names = _names_to_assign(ctx, clause)
    recorded = [
        {"name": n, "by": ctx.actor_record(), "recorded_at": ctx.now.isoformat()} for n in names
    ]
    ctx.data.setdefault("assignees", []).extend(recorded)
    step = Step("assign")
    step.event(
        "rofr_assigned", assignee=names[0], assignees=names, by=ctx.actor_record(), clause=clause
    )
    return step


@enforces("rofr.non_cash", "rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def _choose(
    ctx: Ctx,
    step: Step,
    alternative: str,
    deemed: bool,
    record: dict[str, object] | None,
    passed: Deadline | None = None,
) -> None:
    pe = ctx.rofr.partial_exercise
    assert pe is not None
    ctx.data["owner_choice"] = {"alternative": alternative, "deemed": deemed, "notice": record}
    extra: dict[str, object] = {}
    if passed is not None:
        extra = {
            "deadline": passed.as_dict(),
            "reason": "the owner's 30 days from the date of the notice ended "
            f"{ctx.cal.fmt(passed.at)}, before the company's exercise for part took effect",
        }
    step.event(
        "sale_alternative_chosen",
        alternative=alternative,
        deemed=deemed,
        elected_shares=ctx.data["elected_shares"],
        notice=record,
        clause=pe.on_silence.clause if deemed else pe.owner_choice.clause,
        **extra,
    )
    step.cancel_timers.append(OWNER_CHOICE)
    if alternative == "third_party_sale":
        if ctx.state == "owner_choice":
            step.transition = "owner_silent" if deemed else "choose_third_party"
        if ctx.state in ("owner_choice", "election_window"):
            open_sale_window(ctx, step, opens_at=ctx.must_deadline(ELECTION).at)
        return
    ctx.data["purchase_shares"] = ctx.data["elected_shares"]
    step.cancel_timers.extend([SALE_WINDOW, ELECTION])
    if awaits_valuation(ctx):
        step.transition = "choose_company_to_value"
        step.event("closing_awaits_valuation", clause=ctx.rofr.non_cash.clause)
    else:
        step.transition = "choose_company"
        schedule_closing(ctx, step)


def _no_choice_open(ctx: Ctx, prior: dict[str, object]) -> str:
    if prior and not prior.get("deemed"):
        chosen = "(A), a sale of all the shares to a third party"
        if prior.get("alternative") == "sale_to_company":
            chosen = "(B), a sale of the elected shares to the company"
        return f"the owner already chose {chosen}; the choice is made once"
    if prior:  # deemed, and the state moved on (closing, a sale) since
        return f"the owner's choice was deemed made and the transfer is now {describe(ctx.state)}"
    if ctx.state == "election_window":
        return "the owner chooses only after the company exercises the right for part of the shares"
    return f"the owner has no choice to make while the transfer is {describe(ctx.state)}"


@enforces("rofr.election_scope", "rofr.partial_exercise.owner_choice")
def choose_sale_alternative(ctx: Ctx) -> Step:
    pe = ctx.rofr.partial_exercise
    if pe is None:
        raise Refused(
            ctx.rofr.election_scope.clause,
            "these terms give the owner no choice: the right is for all of the shares or none",
        )
    rule = pe.owner_choice.clause
    alternative = p.choice(
        ctx.payload, "alternative", rule, ("third_party_sale", "sale_to_company")
    )
    prior = ctx.data.get("owner_choice") or {}
    late_entry = ctx.state == "owner_sale_window" and prior.get("deemed")
    if ctx.state != "owner_choice" and not late_entry:
        raise Refused(rule, _no_choice_open(ctx, prior), "wrong_state")
    eff = ctx.notice("owner_choice_notice", rule)
    deadline = ctx.must_deadline(OWNER_CHOICE)
    if deadline.passed(eff.at):
        raise ctx.late(rule, "the owner's choice", eff.at, deadline)
    step = Step("record_late_choice")  # _choose moves on from the owner's choice window
    _choose(ctx, step, alternative, False, eff.record(Party.OWNER, Party.COMPANY))
    return step


@enforces("rofr.partial_exercise.on_silence")
def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name == ELECTION and ctx.state in (
        "election_window",
        "owner_choice",
        "owner_sale_window",
    ):
        deadline = ctx.must_deadline(ELECTION)
        if ctx.state != "election_window":
            step = Step("election_ended_after_part")
            step.event(
                "election_window_expired",
                deadline=deadline.as_dict(),
                elected_shares=ctx.data["elected_shares"],
            )
            return step
        step = Step("election_expired", cancel_timers=[VALUE_AGREEMENT, JOINT_APPRAISER])
        step.event("election_window_expired", deadline=deadline.as_dict(), elected_shares=0)
        open_sale_window(ctx, step, opens_at=deadline.at)
        return step
    if timer.name == OWNER_CHOICE and ctx.state == "owner_choice":
        pe = ctx.rofr.partial_exercise
        assert pe is not None
        step = Step("owner_silent")
        _choose(ctx, step, pe.on_silence.value, True, None)
        return step
    return None
