"""Termination of service: the unvested part forfeited, the window opened, extended, closed.

FMP §5(a): 30 days after employment ends, as to the shares vested on that date; §5(b): six
months after death or permanent disability (with proof, §5(d)); §5(c): for cause, the option
terminates at once. RD ISO ¶7(a): three months, twelve for death or disability; a death within
three months after termination counts as one on account of death; ¶7(b) the employer leaving
the group and ¶7(e) a leave over 90 days are terminations; ¶7(c) and ¶7(d) extend the window.
Every window is capped by the option's expiration (``windows.capped``).
"""

from __future__ import annotations

from datetime import date, datetime

from workflows.calendar import Deadline, combine
from workflows.grants.facts import Leave
from workflows.grants.term import expiry
from workflows.grants.vesting import exercisable, explain, leave_ends_employment, vested
from workflows.kernel import Party, Refused, Send, SendToEach, TimerFired
from workflows.kit.clauses import enforces
from workflows.kit.days import END, START, edge_of
from workflows.termination import windows as w
from workflows.termination.commands import (
    NotifyExercisable,
    RecordDeath,
    RecordExercisePrevented,
    RecordSection16bExposure,
    TerminateService,
)
from workflows.termination.context import WINDOW, Ctx, Step


def _day(ctx: Ctx, key: str) -> date:
    return date.fromisoformat(ctx.data[key])


def _recorded(ctx: Ctx) -> None:
    """An extension or a death is recorded against a termination on record."""
    if ctx.state == "new":
        raise Refused(ctx.clause, "no termination is recorded yet: terminate_service first",
                      "wrong_state")  # fmt: skip


def _not_future(ctx: Ctx, clause: str, what: str, day: date) -> None:
    if day > ctx.cal.local_date(ctx.now):
        raise Refused(clause, f"{what} {day} is in the future", "invalid_payload")


@enforces("termination.reasons")
def _termination_day(ctx: Ctx, cmd: TerminateService) -> date:
    """The last day of employment, once the reason's own conditions are met."""
    t = ctx.termination
    rule = t.reasons.get(cmd.reason)
    if rule is None:
        raise Refused(
            t.clause, f"these terms know no termination for {cmd.reason.replace('_', ' ')}"
        )
    if rule.proof_required and not cmd.disability_proof:
        raise Refused(
            rule.clause, "permanent disability needs proof in the form the Board requires"
        )
    resolution = cmd.resolution or (ctx.actor.reference if ctx.actor else "")
    served = ctx.grant().service
    if rule.services is not None and served is not None and served not in rule.services:
        raise Refused(rule.clause, f"the optionee was granted the option as an {served}: the "
                      f"end of {' or '.join(rule.services)} status is no termination of "
                      "employment")  # fmt: skip
    if rule.board_determination and (ctx.party is not Party.BOARD or not resolution):
        raise Refused(rule.clause, "only the Board, by its resolution, finds a leave a termination")
    if cmd.reason != "leave_over_limit":
        if cmd.terminated_on is None:
            raise Refused(rule.clause, "payload.terminated_on is required", "invalid_payload")
        return cmd.terminated_on
    return _leave_day(ctx, cmd, rule.clause)


def _leave_day(ctx: Ctx, cmd: TerminateService, clause: str) -> date:
    """RD ISO ¶7(e): a leave over the limit ends employment on the day after the limit."""
    limit = ctx.grant().leave_limit_days
    if cmd.leave_started_on is None or limit is None:
        raise Refused(clause, "a leave over the limit needs payload.leave_started_on and a limit")
    leaves = [x for x in ctx.grant().leaves if x.starts_on == cmd.leave_started_on]
    if leaves and leaves[0].reemployment_guaranteed:
        raise Refused(clause, "re-employment after this leave is guaranteed: it ends no employment")
    day = leave_ends_employment(Leave(starts_on=cmd.leave_started_on), limit)
    assert day is not None
    if cmd.terminated_on is not None and cmd.terminated_on != day:
        raise Refused(clause, f"a leave from {cmd.leave_started_on} ends employment on day "
                      f"{limit + 1}, {day}, not {cmd.terminated_on}")  # fmt: skip
    return day


@enforces("termination.retained")
def terminate_service(ctx: Ctx, cmd: TerminateService) -> Step:
    """Record the termination: the unvested part is forfeited and returns to the pool; the part
    exercisable on the last day stays exercisable until the window ends."""
    t, grant = ctx.termination, ctx.grant()
    if cmd.grant != grant.grant_id:
        raise Refused(t.clause, f"the facts loaded are of grant {grant.grant_id}, not {cmd.grant}")
    if grant.service_ended_on is not None:
        # One termination per grant: a later death or extension is recorded on that one.
        raise Refused(
            t.clause,
            f"the optionee's service under grant {grant.grant_id} already ended on "
            f"{grant.service_ended_on}: its termination is recorded",
        )
    day = _termination_day(ctx, cmd)
    _not_future(ctx, t.clause, "the termination", day)
    if day < grant.grant_date:
        raise Refused(t.clause, f"the termination on {day} precedes the grant ({grant.grant_date})")
    end = expiry(ctx.cal, grant.expiration_date, t.cap.clause, t.expiration_name.value)
    if day > grant.expiration_date:
        raise Refused(t.cap.clause, f"the option expired before the termination: {end.derivation}")
    ended = grant.model_copy(update={"service_ended_on": day})
    retained = exercisable(ended, day)  # exercised shares and those held for exercises under way
    vested_then = vested(ended, day)  # are neither retained nor forfeited
    forfeited = grant.shares - grant.claimed - retained
    ctx.data.update(
        terms_id=ctx.terms.id, grant=grant.grant_id, optionee=grant.optionee, reason=cmd.reason,
        recorded_reason=cmd.reason, terminated_on=day.isoformat(),
        effective_at=cmd.effective_at.isoformat() if cmd.effective_at else None,
        expiration=end.as_dict(), shares=grant.shares, exercised=grant.claimed,
        vested=vested_then, retained=retained, forfeited=forfeited,
        proof=cmd.disability_proof, resolution=cmd.resolution,
    )  # fmt: skip
    window = current_window(ctx)
    closed = retained == 0 or window.passed(ctx.now)
    step = Step("terminate_closed" if closed else "terminate")
    step.event(
        "service_terminated",
        grant=grant.grant_id,
        reason=cmd.reason,
        terminated_on=day.isoformat(),
        clause=t.reasons[cmd.reason].clause,
        vested=vested_then,
        vesting=explain(ended, day),
        exercised=grant.exercised,
        exercisable=retained,
        retained_clause=t.retained.clause,
    )
    if forfeited:
        step.event("unvested_shares_forfeited", grant=grant.grant_id, shares=forfeited,
                   returned_to_pool=True, clause=t.retained.clause)  # fmt: skip
    if closed:
        _close(ctx, step, window)
    else:
        _tell_grant(ctx, step, window)
        step.event("post_termination_window_opened", grant=grant.grant_id, shares=retained,
                   deadline=window.as_dict())  # fmt: skip
        ctx.set_timer(step, WINDOW, window, Party.OWNER, "exercise the vested part of the option")
    return step


def current_window(ctx: Ctx) -> Deadline:
    """The window as the recorded facts make it: the reason's window, capped, and any RD
    extension (¶7(c), ¶7(d)), the later of them."""
    t, cal, end = ctx.termination, ctx.cal, ctx.expiration()
    day = _day(ctx, "terminated_on")
    at = ctx.data.get("effective_at")
    effective = None if at is None else datetime.fromisoformat(at)
    normal = w.window_end(t, cal, ctx.data["reason"], day, end, effective)
    parts = [normal]
    law = ctx.data.get("prevented_by_law")
    if law is not None:
        notified = law.get("notified_on")
        on = date.fromisoformat(notified) if notified else None
        parts.append(w.law_extension(t, cal, normal, on, end))
    s16 = ctx.data.get("section_16b")
    if s16 is not None:
        ends = s16.get("exposure_ends_on")
        on = date.fromisoformat(ends) if ends else None
        parts.append(w.section_16b_extension(t, cal, normal, day, on, end))
    if len(parts) == 1:
        return normal
    return combine("later", *parts, clause=parts[-1].clause, what="the window with its extensions")


def _tell_grant(ctx: Ctx, step: Step, window: Deadline) -> None:
    """The grant records its termination: the forfeited part, and once the window closed the
    unexercised part, back in the pool (RD Plan ¶4), and the window's end; and every open
    exercise of the grant records it in its place (``_tell_exercises``). Commands the engine
    delivers as their own transitions."""
    d = ctx.data
    closed = d.get("closed") or {}
    step.send.append(Send("grant", "record_grant_termination", {
        "terminated_on": d["terminated_on"], "reason": d["reason"], "forfeited": d["forfeited"],
        "retained": d["retained"], "expired": closed.get("unexercised", 0),
        "window_ends_at": window.at.isoformat(), "window_derivation": window.derivation,
    }, workflow_id=d["grant"]))  # fmt: skip
    _tell_exercises(ctx, step, window)


def effective_at(ctx: Ctx) -> datetime:
    """When the termination took effect: ``effective_at`` as given, else the end of the last
    day of service (its start where the option ends at once, FMP §5(c)); as its timeline reads
    it (``workflows.termination.timeline``)."""
    given = ctx.data.get("effective_at")
    if given:
        return datetime.fromisoformat(given)
    window = ctx.termination.window_for(ctx.data.get("recorded_reason") or ctx.data["reason"])
    edge = START if window and window.immediately else END
    return edge_of(ctx.cal, _day(ctx, "terminated_on"), edge, ctx.now)


@enforces("termination.retained")
def _tell_exercises(ctx: Ctx, step: Step, window: Deadline) -> None:
    """Every exercise of the grant not yet final records the termination at the time it took
    effect (FMP §5, RD ISO ¶7; docs/design.md, "Exercise and termination across workflows"): a
    notice effective before it stands, one effective after it is judged against its window
    and shares, whatever the order of entry. An exercise begun later reads the same window
    from its grant's facts."""
    d = ctx.data
    step.send.append(SendToEach("option_exercise", "grant", d["grant"], "record_termination", {
        "reason": d["reason"], "terminated_on": d["terminated_on"],
        "effective_at": effective_at(ctx).isoformat(), "retained": d["retained"],
        "exercised_at_termination": d["exercised"], "window_ends_at": window.at.isoformat(),
        "window_derivation": window.derivation, "clause": window.clause,
    }))  # fmt: skip


def _close(ctx: Ctx, step: Step, window: Deadline) -> None:
    """The window ended: what was still exercisable expires. The grant's facts, when loaded,
    tell the shares exercised since the termination."""
    unexercised = ctx.data["retained"]
    if ctx.facts is not None and ctx.facts.grant_id == ctx.data["grant"]:
        since = max(0, ctx.facts.claimed - ctx.data["exercised"])
        unexercised = max(0, unexercised - since)
    ctx.data["closed"] = {"at": window.at.isoformat(), "clause": window.clause,
                          "derivation": window.derivation, "unexercised": unexercised}  # fmt: skip
    step.event("post_termination_window_closed", grant=ctx.data["grant"], deadline=window.as_dict(),
               unexercised_expired=unexercised, returned_to_pool=True)  # fmt: skip
    _tell_grant(ctx, step, window)


def _rewindow(ctx: Ctx, event: str, **facts: object) -> Step:
    """Recompute the window after a new fact; reopen, extend or record it on the closed one."""
    window = current_window(ctx)
    is_open = not window.passed(ctx.now) and ctx.data["retained"] > 0
    if ctx.state == "window_open":
        step = Step("extend" if is_open else "close")
    else:
        step = Step("reopen" if is_open else "extend_closed")
    step.event(event, grant=ctx.data["grant"], deadline=window.as_dict(), **facts)
    if is_open:
        ctx.data["closed"] = None
        ctx.set_timer(step, WINDOW, window, Party.OWNER, "exercise the vested part of the option")
    else:
        step.cancel_timers.append(WINDOW)
        ctx.data.setdefault("deadlines", {}).pop(WINDOW, None)
        if ctx.state == "window_open":
            _close(ctx, step, window)
    if len(step.send) == 0:
        _tell_grant(ctx, step, window)
    return step


def _rd(ctx: Ctx, rule: object, what: str) -> None:
    if rule is None:  # the parties table already refuses; this guards a company's own terms
        raise Refused(ctx.clause, f"these terms ({ctx.terms.id}) provide no {what}", "not_provided")


@enforces("termination.death_after_termination")
def record_death(ctx: Ctx, cmd: RecordDeath) -> Step:
    """RD ISO ¶7(a): a death within three months after termination makes it a termination on
    account of death, with its twelve-month window."""
    _recorded(ctx)
    t = ctx.termination
    rule = t.death_after_termination
    _rd(ctx, rule, "death after termination")
    assert rule is not None
    day = _day(ctx, "terminated_on")
    _not_future(ctx, rule.clause, "the death", cmd.died_on)
    if ctx.data["reason"] in ("death", "disability"):
        raise Refused(rule.clause, "the termination already has the death or disability window")
    if not w.counts_as_death(t, day, cmd.died_on):
        raise Refused(rule.clause, f"a death on {cmd.died_on} is not within {rule.within_months} "
                      f"months after the termination on {day}")  # fmt: skip
    ctx.data["reason"] = "death"
    ctx.data["death"] = {"died_on": cmd.died_on.isoformat(), "clause": rule.clause}
    return _rewindow(ctx, "termination_deemed_on_account_of_death", died_on=cmd.died_on.isoformat())


def _within_window(ctx: Ctx, clause: str, since: date) -> None:
    """RD ISO ¶7(c): "if the exercise of the Option within the applicable time periods set
    forth above is prevented": a bar that arose after the ¶7(a) window ended prevented nothing
    within it."""
    t = ctx.termination
    at = ctx.data.get("effective_at")
    normal = w.window_end(t, ctx.cal, ctx.data["reason"], _day(ctx, "terminated_on"),
                          ctx.expiration(), datetime.fromisoformat(at) if at else None)  # fmt: skip
    ended = ctx.cal.local_date(normal.at)
    if since > ended:
        raise Refused(clause, f"exercise prevented since {since}, after the window the exercise "
                      f"would have been within ended on {ended} ({normal.derivation})")  # fmt: skip


@enforces("termination.prevented_by_law")
def record_exercise_prevented(ctx: Ctx, cmd: RecordExercisePrevented) -> Step:
    """RD ISO ¶7(c): exercise within the window is prevented by law (¶4(f))."""
    _recorded(ctx)
    rule = ctx.termination.prevented_by_law
    _rd(ctx, rule, "extension for exercise prevented by law")
    assert rule is not None
    if ctx.data.get("prevented_by_law"):
        raise Refused(rule.clause, "an exercise prevented by law is already on record")
    if cmd.prevented_since is not None:
        _within_window(ctx, rule.clause, cmd.prevented_since)
    ctx.data["prevented_by_law"] = {
        "since": cmd.prevented_since.isoformat() if cmd.prevented_since else None,
        "reason": cmd.reason,
        "notified_on": None,
    }
    return _rewindow(ctx, "exercise_prevented_by_law")


def notify_exercisable(ctx: Ctx, cmd: NotifyExercisable) -> Step:
    """RD ISO ¶7(c): the Company notifies the optionee that the option is exercisable."""
    _recorded(ctx)
    rule = ctx.termination.prevented_by_law
    _rd(ctx, rule, "extension for exercise prevented by law")
    assert rule is not None
    law = ctx.data.get("prevented_by_law")
    if not law:
        raise Refused(rule.clause, "no exercise prevented by law is on record")
    _not_future(ctx, rule.clause, "the notice", cmd.notified_on)
    ctx.data["prevented_by_law"] = {**law, "notified_on": cmd.notified_on.isoformat()}
    return _rewindow(ctx, "optionee_notified_option_exercisable",
                     notified_on=cmd.notified_on.isoformat())  # fmt: skip


@enforces("termination.section_16b")
def record_section_16b_exposure(ctx: Ctx, cmd: RecordSection16bExposure) -> Step:
    """RD ISO ¶7(d): exercise would expose the optionee to suit under Section 16(b)."""
    _recorded(ctx)
    _rd(ctx, ctx.termination.section_16b, "Section 16(b) extension")
    ends = cmd.exposure_ends_on.isoformat() if cmd.exposure_ends_on else None
    ctx.data["section_16b"] = {"exposure_ends_on": ends}
    return _rewindow(ctx, "section_16b_exposure_recorded", exposure_ends_on=ends)


def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name != WINDOW:
        return None
    step = Step("close")
    _close(ctx, step, ctx.must_deadline(WINDOW))
    return step
