"""The owner's choice after the company elected only part of the shares (FMP §6(d)(v)).

After an exercise for part, the owner chooses within 30 days after the *date* of the
Disposition Notice to sell all the Target Shares to the third party (A) or the elected part to
the Company (B); silence is deemed a choice of the default the terms name ((A) in FMP). What a
choice of (A) binds is in ``alternative_a``.
"""

from __future__ import annotations

from datetime import datetime, time

from workflows.calendar import Deadline
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.context import ELECTION, OWNER_CHOICE, SALE_WINDOW, Ctx, Step


@enforces("rofr.partial_exercise.owner_choice")
def _owner_choice_deadline(ctx: Ctx) -> Deadline:
    pe = ctx.rofr.partial_exercise
    assert pe is not None
    window = pe.owner_choice
    if window.runs_from == "notice_date":
        # FMP §6(d)(v) counts from the *date of* the Disposition Notice, not its receipt: a notice
        # dated well before it arrived leaves the owner less time, possibly none at all.
        dated = ctx.day("notice_dated")
        start = datetime.combine(dated, time(12), tzinfo=ctx.cal.zone)
        return ctx.window_end(window, start, ctx.data["notice_dated_from"])
    eff = ctx.instant("transfer_notice", "effective_at")
    return ctx.window_end(window, eff, ctx.data["transfer_notice"]["derivation"])


@enforces("rofr.partial_exercise.on_silence", "rofr.partial_exercise.owner_choice")
def open_owner_choice(ctx: Ctx, step: Step) -> None:
    """Entering ``owner_choice`` (FMP §6(d)(v)): the owner's time to choose (A) or (B)."""
    pe = ctx.rofr.partial_exercise
    assert pe is not None
    deadline = _owner_choice_deadline(ctx)
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


@enforces("rofr.partial_exercise.on_silence")
def deem_choice_if_passed(ctx: Ctx, step: Step, exercised_at: datetime) -> None:
    """The owner's window closed before the company's part exercise took effect: no choice can
    be timely, so the clause's default applies at once instead of a timer set in the past
    firing a moment later."""
    pe = ctx.rofr.partial_exercise
    assert pe is not None
    deadline = _owner_choice_deadline(ctx)
    if not deadline.passed(exercised_at):
        return
    ctx.data.setdefault("deadlines", {})[OWNER_CHOICE] = deadline.as_dict()
    if ctx.state == "owner_sale_window":  # the window the deemed (A) opened stays open
        step.cancel_timers.remove(SALE_WINDOW)
    _choose(ctx, step, pe.on_silence.value, True, None, passed=deadline)


@enforces("rofr.partial_exercise.owner_choice")
def b_chosen(ctx: Ctx) -> bool:
    """Guard, FMP §6(d)(v)(B): the owner sells the elected shares to the company (chosen, or
    deemed where the terms make it the default)."""
    choice = ctx.data.get("owner_choice") or {}
    return bool(choice.get("alternative") == "sale_to_company")


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
    # The chart moves on by the choice: (A) to the owner's sale window, (B) to the purchase.
    if alternative == "sale_to_company":
        ctx.data["purchase_shares"] = ctx.data["elected_shares"]
        step.cancel_timers.extend([SALE_WINDOW, ELECTION])


def _no_choice_open(ctx: Ctx, prior: dict[str, object]) -> str:
    if prior and not prior.get("deemed"):
        chosen = "(A), a sale of all the shares to a third party"
        if prior.get("alternative") == "sale_to_company":
            chosen = "(B), a sale of the elected shares to the company"
        return f"the owner already chose {chosen}; the choice is made once"
    if prior:  # deemed, and the state moved on (closing, a sale) since
        return f"the owner's choice was deemed made and the transfer is now {ctx.describe()}"
    if ctx.state == "election_window":
        return "the owner chooses only after the company exercises the right for part of the shares"
    return f"the owner has no choice to make while the transfer is {ctx.describe()}"


@enforces("rofr.election_scope", "rofr.partial_exercise.owner_choice")
def choose_sale_alternative(ctx: Ctx, cmd: c.ChooseSaleAlternative) -> Step:
    pe = ctx.rofr.partial_exercise
    if pe is None:
        raise Refused(
            ctx.rofr.election_scope.clause,
            "these terms give the owner no choice: the right is for all of the shares or none",
        )
    rule = pe.owner_choice.clause
    alternative = cmd.alternative
    prior = ctx.data.get("owner_choice") or {}
    late_entry = ctx.state == "owner_sale_window" and prior.get("deemed")
    if ctx.state != "owner_choice" and not late_entry:
        raise Refused(rule, _no_choice_open(ctx, prior), "wrong_state")
    eff = ctx.notice("owner_choice_notice", rule, cmd.notice)
    deadline = ctx.must_deadline(OWNER_CHOICE)
    if deadline.passed(eff.at):
        raise ctx.late(rule, "the owner's choice", eff.at, deadline)
    step = Step("choose")
    _choose(ctx, step, alternative, False, eff.record(Party.OWNER, Party.COMPANY))
    return step


@enforces("rofr.partial_exercise.on_silence")
def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name == OWNER_CHOICE and ctx.state == "owner_choice":
        pe = ctx.rofr.partial_exercise
        assert pe is not None
        step = Step("owner_silent")
        _choose(ctx, step, pe.on_silence.value, True, None)
        return step
    return None
