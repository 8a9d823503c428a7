"""Issue 14 in the exercise: the outcome is a function of the acts and their effective times,
not of the order in which they are entered (property-based, with hypothesis).

A set of acts with effective times is drawn (the notice, with or without shares tendered, the
Board's consent or refusal, the withholding required, an Election, the Board's decision on it,
a remittance, the certificate, a rejection) and entered in several orders, each at the latest
time yet (never before it took effect), the deadlines service firing every timer due meanwhile
(the Tax Date, FMP §13(c)(iii)); an act refused is entered again after the others, as long as
that gets one accepted. For every order the state, the payment, the withholding and Election,
the certificate, the deadlines and the void facts are the same, except that a fact recorded
and later contradicted is void and named by a reconciliation item.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from exercise_flow import FMP, ExerciseFlow, cash, facts, notice, split
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kind_flow import at

from workflows.kernel import Actor, Command, Party, Refused, TimerFired

START = at("2000-03-01T10:00")
END = at("2000-06-30T12:00")
Act = tuple[str, str, dict[str, Any], datetime]  # command, party, payload, effective


def _when(day: int, hour: int) -> datetime:
    return START.replace(hour=hour) + timedelta(days=day)


def _tendered() -> dict[str, Any]:
    held = {"count": 100, "held_since": "1999-01-02", "section_16_applies": True}
    return {"form": "shares", "shares": held}


@st.composite
def exercise_acts(draw: st.DrawFn) -> list[Act]:
    tender = draw(st.booleans())
    payment = [cash("300"), _tendered()] if tender else [cash("500")]
    given = {"method": "personal", "delivered_at": START.isoformat()}
    acts: list[Act] = [
        (
            "deliver_exercise_notice",
            "owner",
            notice(1_000, payment, given, facts(), investment_statement=True),
            START,
        )
    ]
    day = st.integers(min_value=1, max_value=20)

    def add(name: str, party: str, hour: int, key: str, extra: dict[str, Any]) -> None:
        when = _when(draw(day), hour)
        acts.append((name, party, {key: when.isoformat(), **extra}, when))

    if tender and draw(st.booleans()):
        add("accept_payment", "board", 8, "decided_at", {})
    if tender and draw(st.booleans()):
        add("refuse_payment", "board", 8, "decided_at", {"reason": "not held long enough"})
    if draw(st.booleans()):
        extra = {"amount": "300", "tax_date": "2000-03-15", "fair_market_value": "2.00"}
        add("require_withholding", "company", 9, "required_at", extra)
        if draw(st.booleans()):
            when = _when(draw(day), 10)
            election = {
                "method": "withhold_shares",
                "portion": "all",
                "rate_basis": "flat",
                "notice": {"method": "personal", "delivered_at": when.isoformat()},
            }
            acts.append(("elect_withholding", "owner", election, when))
        decision = draw(st.sampled_from(["", "approve_election", "disapprove_election"]))
        if decision:
            add(decision, "board", 11, "decided_at", {})
        if draw(st.booleans()):
            add("remit_withholding", "owner", 12, "paid_at", {"amount": "300"})
    if draw(st.booleans()):
        add("issue_certificate", "company", 13, "issued_at", {"certificate_number": "C-9"})
    if draw(st.integers(0, 3)) == 0:
        extra = {"ground": "payment_not_honoured", "reason": "the check bounced"}
        add("reject_exercise", "company", 14, "rejected_at", extra)
    return acts


class Clerk(ExerciseFlow):
    """Enters acts in a given order on a clock that never goes back; the deadlines service
    fires every timer due before each entry."""

    def __init__(self) -> None:
        super().__init__("option_exercise", FMP)
        self.clock = START

    def advance(self, to: datetime) -> None:
        while self.timers:
            t = min(self.timers.values(), key=lambda t: (t.deadline.at, t.name))
            if t.deadline.at > to:
                break
            del self.timers[t.name]
            msg = TimerFired(t.name, t.deadline.at)
            self._apply(self.kind.decide(self.state, self.data, msg, to, self.terms))
        self.clock = max(self.clock, to)

    def enter(self, act: Act) -> bool:
        name, party, payload, effective = act
        now = max(self.clock, effective) + timedelta(hours=1)
        self.advance(now)
        body, grant = split(payload)
        self.facts = grant or self.facts
        command = Command(name, Actor(Party(party), ""), body or {})
        try:
            self._apply(self.kind.decide(self.state, self.data, command, now, self.terms))
        except Refused:
            return False
        return True

    def run(self, acts: list[Act]) -> None:
        waiting = list(acts)
        while waiting:
            refused = [a for a in waiting if not self.enter(a)]
            if len(refused) == len(waiting):
                break
            waiting = refused
        self.advance(END)


KEYS = (
    "shares",
    "payment",
    "payments_refused",
    "withholding",
    "election",
    "elections_disapproved",
    "certificate",
    "rejection",
    "deadlines",
)


def outcome(c: Clerk) -> dict[str, Any]:
    """What must not depend on the order of entry."""
    return {
        "state": c.state,
        **{k: c.data.get(k) for k in KEYS},
        "timers": {n: t.deadline.at for n, t in c.timers.items()},
    }


def void_facts(c: Clerk) -> set[tuple[str, str]]:
    return {
        (a.get("command", ""), a["effective_at"])
        for a in c.data.get("timeline", {}).get("acts", [])
        if a.get("void")
    }


def check_orders(acts: list[Act], orders: list[list[int]]) -> None:
    results = []
    for order in [list(range(len(acts))), *orders]:
        clerk = Clerk()
        clerk.run([acts[i] for i in order])
        tl = clerk.data["timeline"]
        named = {i["fact"].get("act") for i in tl["reconciliation"] if i["kind"] == "void"}
        for a in tl["acts"]:
            if a.get("void"):  # a void fact stays recorded, named by an open item
                assert a["id"] in named, (order, a)
        results.append((order, outcome(clerk), void_facts(clerk)))
    first = results[0]
    for order, result, voids in results[1:]:
        assert result == first[1], (first[0], order)
        # A fact void in one order was refused at entry in the other (never recorded).
        assert voids <= {(a[0], a[3].isoformat()) for a in acts}


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(data=st.data())
def test_exercise_outcomes_do_not_depend_on_the_order_of_entry(data: st.DataObject) -> None:
    acts = data.draw(exercise_acts())
    orders = data.draw(st.lists(st.permutations(range(len(acts))), min_size=3, max_size=3))
    check_orders(acts, orders)
