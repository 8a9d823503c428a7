"""When each act of a termination took effect, and how acts at the same instant are ordered.

A termination takes effect when ``effective_at`` says, else at the end of the day employment
ended (``terminated_on``; for a leave over the limit, the 91st day of the leave, RD ISO ¶7(e)).
The end, not the start: FMP §5(a)–(b) keep the shares "vested as of the date Optionee's
employment terminated" and RD ISO ¶7(a) what was exercisable "on the date on which the
Optionee ceased to be an employee", so that day's service and vesting count, and the
termination is what the day came to. For cause, FMP §5(c) ends the option "immediately": the
window closes at the start of that day unless ``effective_at`` says when
(``workflows.termination.windows.raw_window``), and the act takes effect at that same instant,
so an exercise that day comes after it.

A death (``died_on``, RD ISO ¶7(a): within three months after the termination it becomes one on
account of death) and the Company's notice that the option is exercisable (``notified_on``,
¶7(c): three months from it) take effect at the end of their day too: the rules compare them
by date, and at the day's last instant they still come before a window ending that day (an act
at the very instant of a deadline is on time) and after a termination on the same day. That
exercise is prevented by law (¶7(c)) or would expose the optionee to suit (¶7(d)) is a finding
with no date of its own that moves the window: it takes effect when entered (judgment call:
the extension it gives runs from the termination or the later notice, not from the finding).

At one instant the termination comes first, then the death that changes its reason, then the
extensions in the order ¶7(c)-(d) build on each other.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kit.days import END, START, by_day, edge_of, first_of
from workflows.kit.effective import EffectiveTime, by_date
from workflows.termination.commands import TerminateService
from workflows.termination.rules import _termination_day as termination_day


def _last_day_of_service(ctx: Any, cmd: TerminateService) -> datetime:
    """The end of the day employment ended, as the rule reads it (a leave's 91st day); the
    start of it where the option ends at once (FMP §5(c)), as the window itself does."""
    day = termination_day(ctx, cmd)
    window = ctx.termination.window_for(cmd.reason)
    return edge_of(ctx.cal, day, START if window and window.immediately else END, ctx.now)


EFFECTIVE: dict[str, EffectiveTime] = {
    "terminate_service": first_of(by_date("effective_at"), _last_day_of_service),
    "record_death": by_day("died_on", END),
    "notify_exercisable": by_day("notified_on", END),
}

RANKS: dict[str, int] = {
    "terminate_service": 0,
    "record_death": 10,
    "record_exercise_prevented": 20,
    "notify_exercisable": 21,
    "record_section_16b_exposure": 30,
}
