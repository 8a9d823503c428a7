"""The share register's chart: opened once, then kept; every entry is a move on the kept
register, so each has its history row and events like any other transition."""

from __future__ import annotations

from statemachine import State, StateMachine

from workflows.kit.chart import Chart


class RegisterMachine(StateMachine):
    new = State(initial=True)
    kept = State()  # BYL Art. V §9: kept by the Secretary, or at the transfer agent's office

    open = new.to(kept)
    issue = kept.to(kept, internal=True)
    transfer = kept.to(kept, internal=True)
    cancel = kept.to(kept, internal=True)
    change_address = kept.to(kept, internal=True)
    claim_lost = kept.to(kept, internal=True)
    require_terms = kept.to(kept, internal=True)
    replace = kept.to(kept, internal=True)
    # FMP §6(i), RD ISO ¶11(f): a transfer the ROFR holds void, reversed or blocked.
    void = kept.to(kept, internal=True)


STATE_WORDS = {"new": "not yet opened", "kept": "kept"}

CHART = Chart(RegisterMachine, STATE_WORDS, subject="the share register")
