"""An act taking effect after every act recorded is applied at once (``replay.append``, with
what its checks read on entry); a fired timer only fires what is due. Either way the workflow
must come to what replaying every act from the start gives (``replay.replay``), as it would
after an act entered out of order (property-based, with hypothesis).

The acts of the entry-order properties are entered in the order they took effect, an hour
after it, the deadlines service firing the timers due meanwhile or lagging (then the act fires
them itself), and time runs on to the end; the record is then replayed from the start with the
kind's rule alone and the two compared: state, data, pending timers, timers fired.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from test_rofr_entry_order import (
    END,
    PROPERTY,
    Act,
    Clerk,
    fmp_acts,
    fmp_valuation_acts,
    rd_acts,
)

from workflows.kernel import Actor, Command, Decision, Message, Party, Refused
from workflows.kit.data import VERSION_KEY
from workflows.kit.replay import replay
from workflows.kit.timeline import TIMELINE, Timeline
from workflows.rofr.decide import KIND


def enter_in_order(clerk: Clerk, acts: list[Act], fired: list[bool]) -> None:
    for (name, party, actor, payload, effective), fire in zip(acts, fired, strict=True):
        now = max(clerk.clock, effective) + timedelta(hours=1)
        if fire:
            clerk.advance(now)
        clerk.clock = now
        command = Command(name, Actor(Party(party), actor), payload)
        try:
            clerk._apply(clerk.kind.decide(clerk.state, clerk.data, command, now, clerk.terms))
        except Refused:
            pass
    clerk.advance(END)


def check_in_order(terms_id: str, acts: list[Act], fired: list[bool]) -> None:
    clerk = Clerk(terms_id)
    enter_in_order(clerk, sorted(acts, key=lambda a: a[4]), fired)
    tl = Timeline.read(clerk.data[TIMELINE])
    assert tl.base is None and tl.acts

    def rule(state: str, data: dict[str, Any], message: Message, now: Any) -> Decision:
        return KIND.rule(clerk.terms, state, data, message, now)

    version = clerk.data[VERSION_KEY]
    run = replay(rule, ("new", {VERSION_KEY: version}, {}), tl.acts, tl.horizon)
    assert run.state == clerk.state
    assert run.data == {k: v for k, v in clerk.data.items() if k != TIMELINE}
    assert run.pending == tl.pending
    assert run.fired == tl.fired
    assert all(run.outcomes[a["id"]] == a["transition"] for a in tl.acts)


def _lags(n: int) -> st.SearchStrategy[list[bool]]:
    """For each act, whether the timers due before its entry fired first."""
    return st.lists(st.booleans(), min_size=n, max_size=n)


@PROPERTY
@given(data=st.data())
def test_fmp_acts_in_order_come_to_their_full_replay(data: st.DataObject) -> None:
    acts = data.draw(fmp_acts())
    check_in_order("fmp-1998-nso", acts, data.draw(_lags(len(acts))))


@PROPERTY
@given(data=st.data())
def test_raydream_acts_in_order_come_to_their_full_replay(data: st.DataObject) -> None:
    acts = data.draw(rd_acts())
    check_in_order("raydream-1992-iso", acts, data.draw(_lags(len(acts))))


@PROPERTY
@given(data=st.data())
def test_fmp_valuation_acts_in_order_come_to_their_full_replay(data: st.DataObject) -> None:
    acts = data.draw(fmp_valuation_acts())
    check_in_order("fmp-1998-nso", acts, data.draw(_lags(len(acts))))
