"""The termination's chart: the window opens at termination and closes at its end.

A closed window is not final: acts are judged by when they took effect, so an RD extension
recorded late (a death within three months after termination, a Section 16(b) exposure, the
Company's notice under ¶7(c)) can reopen it, or extend it on the record after the fact.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kit.chart import Chart


class TerminationMachine(StateMachine):
    new = State(initial=True)
    window_open = State()  # the part exercisable at termination may be exercised
    window_closed = State()  # the unexercised part expired

    terminate = new.to(window_open)
    terminate_closed = new.to(window_closed)  # for cause (FMP §5(c)), or nothing exercisable
    extend = window_open.to(window_open, internal=True)
    extend_closed = window_closed.to(window_closed, internal=True)
    reopen = window_closed.to(window_open)
    close = window_open.to(window_closed)


STATE_WORDS = {
    "new": "not yet recorded",
    "window_open": "in its post-termination window",
    "window_closed": "past its post-termination window",
}

CHART = Chart(TerminationMachine, STATE_WORDS, subject="the termination")
