"""The optionee's termination of service, as the termination workflow reports it to an exercise.

FMP §5(a)–(b), RD ISO ¶7(a): after employment ends, the option may be exercised only within the
post-termination window, and only for the shares exercisable on the last day of employment
(FMP §5(c): for cause, not at all). The report takes effect when the termination did
(``effective_at``), never when it arrives, so the exercise replays it in its place: a notice
effective before it stands; a notice effective after it is judged against its window and
shares, and is void if the window had closed (or the notice asks for more), whatever the order
of entry. docs/design.md, "Exercise and termination across workflows".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step
from workflows.grants.facts import GrantFacts
from workflows.kernel import Refused
from workflows.kit.clauses import enforces


@enforces("option_exercise.post_termination_window")
def record_termination(ctx: Ctx, cmd: c.RecordTermination) -> Step:
    """Keep the termination's window and shares; nothing already exercised is undone. Sent by
    the termination itself, through the engine, whenever its window is set or changes."""
    at = cmd.effective_at
    ctx.data["termination"] = {
        "termination": cmd.termination or (ctx.actor.reference if ctx.actor else ""),
        "reason": cmd.reason,
        "terminated_on": cmd.terminated_on.isoformat(),
        "effective_at": at.isoformat(),
        "retained": cmd.retained,
        "exercised_at_termination": cmd.exercised_at_termination,
        "window_ends_at": cmd.window_ends_at.isoformat(),
        "window_derivation": cmd.window_derivation,
        "clause": cmd.clause,
    }
    step = Step("record_termination")
    step.event("termination_recorded", termination=ctx.data["termination"])
    return step


def judge_after_termination(
    ctx: Ctx, at: datetime, what: str, notice: tuple[int, GrantFacts] | None = None
) -> None:
    """An act exercising the option at ``at``, after a recorded termination: inside its window
    (FMP §5(a)-(c), RD ISO ¶7(a)) and, for a notice, for no more than the shares exercisable on
    the last day of employment less those exercised since."""
    t: dict[str, Any] | None = ctx.data.get("termination")
    if not t or at < datetime.fromisoformat(t["effective_at"]):
        return
    rule = ctx.ex.post_termination_window
    window = datetime.fromisoformat(t["window_ends_at"])
    if at > window:
        how = t.get("window_derivation") or f"{t['clause']}: terminated {t['terminated_on']}"
        raise Refused(
            rule.clause,
            f"{what} took effect {ctx.cal.fmt(at)}, after the post-termination window closed at "
            f"{ctx.cal.fmt(window)} ({how})",
            "late",
        )
    if notice is None:
        return
    shares, facts = notice
    # Exercisable on the last day: what stayed exercisable plus what was exercised or held
    # then (this exercise's own claim among them, if it came first); less what the grant's
    # other exercises hold now (``facts.claimed`` leaves this one out).
    on_last_day = int(t["retained"]) + int(t["exercised_at_termination"])
    allowed = max(0, on_last_day - facts.claimed)
    if shares > allowed:
        raise Refused(
            rule.clause,
            f"after the termination on {t['terminated_on']} only {allowed} shares may be "
            f"exercised ({on_last_day} exercisable on the last day of employment, "
            f"{facts.claimed} exercised or held by other exercises); the notice asks for {shares}",
            "not_exercisable",
        )
