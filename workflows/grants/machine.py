"""The grant's chart: granted, outstanding until its expiration, then expired.

Vesting, exercises and a termination do not move the grant: they are facts other workflows
read (``workflows.grants.facts``); the grant's own moves are its grant, its leaves, the
termination its termination sends it and the shares its exercises acquired (recorded, the state
unchanged), and its expiry timer.
"""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kit.chart import Chart


class GrantMachine(StateMachine):
    new = State(initial=True)
    outstanding = State()  # granted; vests and is exercised as its schedule and facts allow
    # FMP §2, RD ISO ¶6: the Option Expiration / Term Date passed. Not final: an exercise whose
    # notice took effect before it may still issue its certificate, and the grant records it.
    expired = State()

    grant = new.to(outstanding)
    record_leave = outstanding.to(outstanding, internal=True)
    record_grant_termination = outstanding.to(outstanding, internal=True)
    expire = outstanding.to(expired)
    record_exercised_shares = outstanding.to(outstanding, internal=True) | expired.to(
        expired, internal=True
    )


STATE_WORDS = {
    "new": "not yet granted",
    "outstanding": "outstanding",
    "expired": "expired",
}

CHART = Chart(GrantMachine, STATE_WORDS, subject="the option")
