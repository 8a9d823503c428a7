"""The grant's rules: grant the option, record a leave, expire at the end of its term."""

from __future__ import annotations

from datetime import date
from typing import Any

from dateutil.relativedelta import relativedelta

from workflows.grants import plan
from workflows.grants.commands import (
    GrantOption,
    RecordExercisedShares,
    RecordLeave,
    RecordTermination,
)
from workflows.grants.context import EXPIRY, Ctx, Step
from workflows.grants.facts import Leave
from workflows.grants.term import expiry
from workflows.grants.vesting import leave_ends_employment
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.terms.termination import TerminationTerms


@enforces("grant.vesting")
def _schedule(ctx: Ctx, cmd: GrantOption) -> tuple[dict[str, Any], date | None]:
    """The vesting schedule the terms call for, and the Initial Exercise Date."""
    v = ctx.grant.vesting
    if v.schedule == "installments":
        if not cmd.installments or cmd.initial_vesting_date is not None:
            raise Refused(v.clause, "the grant states its installments (and no vesting date)")
        total = sum(i.shares for i in cmd.installments)
        if total != cmd.shares:
            raise Refused(
                v.clause, f"the installments add up to {total:,} shares, not the {cmd.shares:,}"
            )
        schedule: dict[str, Any] = {
            "kind": "installments",
            "installments": [
                {"on": i.on.isoformat(), "shares": i.shares} for i in cmd.installments
            ],
            "clause": v.clause,
        }
        return schedule, None
    if cmd.initial_vesting_date is None or cmd.installments:
        raise Refused(v.clause, "the grant states its Initial Vesting Date (and no installments)")
    ivd = cmd.initial_vesting_date
    schedule = {"kind": "vested_ratio", "initial_vesting_date": ivd.isoformat(),
                "denominator": v.denominator, "clause": v.clause}  # fmt: skip
    start = v.initial_exercise.value
    if start == "initial_vesting_date":
        return schedule, ivd
    if start == "one_year_after_grant":
        return schedule, cmd.grant_date + relativedelta(years=1)  # RD NSO ¶1(e)
    return schedule, None


def grant_option(ctx: Ctx, cmd: GrantOption) -> Step:
    """Grant an option, checked against the plan (RD Plan ¶3–¶7)."""
    kind = plan.option_type(ctx, cmd)
    end, term_check = plan.expiration(ctx, cmd)
    checks = [term_check]
    found = (plan.price(ctx, cmd, kind), plan.reserve(ctx, cmd), plan.granting_period(ctx, cmd))
    checks += [check for check in found if check is not None]
    schedule, initial_exercise = _schedule(ctx, cmd)
    ended = ctx.terms.section("termination")  # the name the terms give the end of the term
    names = ended.expiration_name.value if isinstance(ended, TerminationTerms) else None
    name = names or "expiration date"
    deadline = expiry(ctx.cal, end, term_check["clause"], name)
    leave = ctx.grant.leave
    fmv = ctx.facts.fmv if ctx.facts else None
    ctx.data.update(
        terms_id=ctx.terms.id,
        optionee=cmd.optionee,
        optionee_name=cmd.optionee_name,
        plan=cmd.plan,
        option_type=kind,
        ten_percent_owner=cmd.ten_percent_owner,
        service=cmd.service,
        shares=cmd.shares,
        exercise_price=f"{cmd.exercise_price:f}",
        grant_date=cmd.grant_date.isoformat(),
        expiration_date=end.isoformat(),
        expires_at=deadline.at.isoformat(),
        vesting=schedule,
        initial_exercise_date=initial_exercise.isoformat() if initial_exercise else None,
        leaves=[],
        leave_limit_days=leave.limit_days,
        leave_credit_by_designation=leave.credit_by_designation,
        leave_clause=leave.clause,
        resolution=cmd.resolution or (ctx.actor.reference if ctx.actor else "") or None,
        fmv=fmv.model_dump(mode="json") if fmv else None,
        checks=checks,
    )
    step = Step("grant")
    ctx.set_timer(step, EXPIRY, deadline, Party.OWNER, "exercise before the option expires")
    step.event(
        "option_granted",
        optionee=cmd.optionee,
        plan=cmd.plan,
        option_type=kind,
        shares=cmd.shares,
        exercise_price=ctx.data["exercise_price"],
        grant_date=ctx.data["grant_date"],
        expiration_date=ctx.data["expiration_date"],
        ten_percent_owner=cmd.ten_percent_owner,
        vesting=schedule,
        initial_exercise_date=ctx.data["initial_exercise_date"],
        fmv=ctx.data["fmv"],
        checks=checks,
        deadline=deadline.as_dict(),
    )
    return step


@enforces("grant.leave")
def record_leave(ctx: Ctx, cmd: RecordLeave) -> Step:
    """Record a leave of absence (RD ISO ¶7(e); FMP §5(a): the Board decides whether a leave is
    a termination). A later record of the same start replaces it (the leave ended)."""
    if ctx.state == "new":
        raise Refused(ctx.clause, "no option is granted yet: grant_option first", "wrong_state")
    rule = ctx.grant.leave
    if cmd.starts_on < date.fromisoformat(ctx.data["grant_date"]):
        raise Refused(rule.clause, f"a leave from {cmd.starts_on} began before the grant")
    leave = Leave(starts_on=cmd.starts_on, ends_on=cmd.ends_on, vesting_credit=cmd.vesting_credit,
                  reemployment_guaranteed=cmd.reemployment_guaranteed)  # fmt: skip
    kept = [x for x in ctx.data.get("leaves") or [] if x["starts_on"] != cmd.starts_on.isoformat()]
    ctx.data["leaves"] = [*kept, leave.model_dump(mode="json")]
    step = Step("record_leave")
    ends = leave_ends_employment(leave, rule.limit_days)
    step.event(
        "leave_recorded",
        leave=leave.model_dump(mode="json"),
        clause=rule.clause,
        employment_ends_on=ends.isoformat() if ends else None,
        note=(
            f"a leave over {rule.limit_days} days ends employment on day {rule.limit_days + 1}"
            if rule.limit_days is not None
            else "the Board determines whether an authorized leave is a termination"
        ),
    )
    return step


def record_grant_termination(ctx: Ctx, cmd: RecordTermination) -> Step:
    """The grant's termination has recorded the end of service (FMP §5, RD ISO ¶7): the
    unvested part returns to the pool (RD Plan ¶4) and the rest may be exercised until the
    window ends. Sent by the termination itself, through the engine; a second one from the
    same termination (its window recomputed) replaces the first."""
    if ctx.state == "new":
        raise Refused(ctx.clause, "no option is granted yet", "wrong_state")
    by = ctx.actor.reference if ctx.actor else ""
    recorded = ctx.data.get("termination")
    if recorded is not None and recorded["termination"] != by:
        raise Refused(ctx.clause, f"the grant's service already ended by termination "
                      f"{recorded['termination']}", "wrong_state")  # fmt: skip
    ctx.data["termination"] = {"termination": by, **cmd.model_dump(mode="json")}
    step = Step("record_grant_termination")
    step.event("termination_recorded", **ctx.data["termination"], returned_to_pool=cmd.forfeited)
    return step


def record_exercised_shares(ctx: Ctx, cmd: RecordExercisedShares) -> Step:
    """An exercise of the grant issued its certificate: its shares are acquired (RD ISO ¶4(a),
    ¶10; FMP §4(b)) and stay committed to the plan (RD Plan ¶4). Sent by the exercise itself,
    through the engine, once; the exercise held them from its acceptance (docs/design.md,
    "Concurrent exercises of one grant"), so they are within what was exercisable."""
    if ctx.state == "new":
        raise Refused(ctx.clause, "no option is granted yet", "wrong_state")
    by = ctx.actor.reference if ctx.actor else ""
    exercises = dict(ctx.data.get("exercises") or {})
    exercises[by] = {"shares": cmd.shares, "exercised_on": cmd.exercised_on.isoformat(),
                     "certificate": cmd.certificate}  # fmt: skip
    total = sum(int(e["shares"]) for e in exercises.values())
    if total > int(ctx.data["shares"]):
        raise Refused(ctx.clause, f"{total:,} shares exercised would exceed the "
                      f"{int(ctx.data['shares']):,} granted")  # fmt: skip
    ctx.data.update(exercises=exercises, exercised=total)
    step = Step("record_exercised_shares")
    step.event("exercised_shares_recorded", exercise=by, shares=cmd.shares,
               exercised_on=cmd.exercised_on.isoformat(), certificate=cmd.certificate,
               exercised=total)  # fmt: skip
    return step


def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name != EXPIRY:
        return None
    d = ctx.must_deadline(EXPIRY)
    ctx.data["expired"] = {"at": d.at.isoformat(), "clause": d.clause}
    step = Step("expire")
    step.event("option_expired", deadline=d.as_dict(), shares_return_to_pool=True)
    return step
