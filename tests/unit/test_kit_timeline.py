"""The kit judges any kind's acts by their effective time (issue 14, "what must exist" 3).

A toy option kind, three commands and a chart, built on the kit alone: an exercise effective
before a termination that was entered earlier wins, and a termination effective before an
exercise that was entered earlier voids the exercise. Nothing here is the ROFR's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from kind_flow import CATALOG, at, iso
from pydantic import BaseModel, ConfigDict
from statemachine import State, StateMachine

from workflows.kernel import Actor, Command, Decision, Party, Refused
from workflows.kit.chart import Chart
from workflows.kit.commands import CommandTable, Spec
from workflows.kit.context import Context
from workflows.kit.data import DataSchema
from workflows.kit.dispatch import Kind
from workflows.kit.effective import by_date
from workflows.kit.payload import Instant, Payload
from workflows.kit.step import Step
from workflows.terms import Cited

TERMS = CATALOG.get("fmp-1998-nso")  # its calendar and notices; the toy needs nothing else


class OptionMachine(StateMachine):
    new = State(initial=True)
    exercisable = State()
    exercised = State(final=True)
    terminated = State(final=True)
    grant = new.to(exercisable)
    exercise = exercisable.to(exercised)
    terminate = exercisable.to(terminated)


@dataclass
class OptionCtx(Context):
    @property
    def clause(self) -> str:
        return "toy §1"


class Granted(Payload):
    granted_at: Instant


class Exercised(Payload):
    exercised_at: Instant


class Terminated(Payload):
    terminated_at: Instant


class OptionData(BaseModel):
    model_config = ConfigDict(extra="allow")
    schema_version: int


def _step(transition: str, event: str) -> Any:
    def rule(ctx: OptionCtx) -> Step:
        step = Step(transition)
        step.event(event)
        return step

    return rule


PARTIES = {n: Cited[list[Party]](value=[Party.COMPANY], clause="toy §1")
           for n in ("grant", "exercise", "terminate")}  # fmt: skip
OPTION: Kind[OptionCtx] = Kind(
    context=OptionCtx,
    commands=CommandTable("toy_option", {
        "grant": Spec(Granted, _step("grant", "option_granted")),
        "exercise": Spec(Exercised, _step("exercise", "option_exercised")),
        "terminate": Spec(Terminated, _step("terminate", "service_terminated")),
    }),
    chart=Chart(OptionMachine, subject="the option"),
    timer_rules=(),
    parties=lambda ctx: PARTIES,
    data=DataSchema(OptionData, current=1),
    effective={"grant": by_date("granted_at"), "exercise": by_date("exercised_at"),
               "terminate": by_date("terminated_at")},
)  # fmt: skip


def run(*acts: tuple[str, str, str]) -> Decision:
    """Enter ``(command, effective, entered)`` in this order."""
    granted = Command("grant", Actor(Party.COMPANY), {"granted_at": iso("2026-01-05T09:00")})
    d = OPTION.decide(None, {}, granted, at("2026-01-05T10:00"), TERMS)
    for name, effective, entered in acts:
        key = {"exercise": "exercised_at", "terminate": "terminated_at"}[name]
        command = Command(name, Actor(Party.COMPANY), {key: iso(effective)})
        d = OPTION.decide(d.state, d.data, command, at(entered), TERMS)
    return d


def void(d: Decision) -> list[str]:
    return [a["command"] for a in d.data["timeline"]["acts"] if a.get("void")]


def test_an_exercise_effective_before_a_termination_entered_earlier_wins() -> None:
    d = run(("terminate", "2026-03-15T09:00", "2026-03-16T09:00"),
            ("exercise", "2026-03-10T09:00", "2026-03-20T09:00"))  # fmt: skip
    assert d.state == "exercised" and void(d) == ["terminate"]
    assert [e.type for e in d.events] == [
        "option_exercised",
        "fact_voided",
        "reconciliation_raised",
    ]
    item = d.data["timeline"]["reconciliation"][0]
    assert (
        item["fact"]["command"] == "terminate" and item["contradicted_by"]["command"] == "exercise"
    )
    assert "cannot terminate while the option is exercised" in item["reason"]


def test_a_termination_effective_before_an_exercise_entered_earlier_voids_it() -> None:
    d = run(("exercise", "2026-03-10T09:00", "2026-03-11T09:00"),
            ("terminate", "2026-03-05T09:00", "2026-03-20T09:00"))  # fmt: skip
    assert d.state == "terminated" and void(d) == ["exercise"]
    assert d.data["timeline"]["acts"][1]["void"]["clause"] == "toy §1"


def test_in_either_order_of_entry_the_outcome_is_the_same() -> None:
    other = run(("terminate", "2026-03-15T09:00", "2026-03-21T09:00"),
                ("exercise", "2026-03-10T09:00", "2026-03-22T09:00"))  # fmt: skip
    one = run(("exercise", "2026-03-10T09:00", "2026-03-21T09:00"))
    late = Command("terminate", Actor(Party.COMPANY), {"terminated_at": iso("2026-03-15T09:00")})
    with pytest.raises(Refused) as refused:  # entered after the exercise: refused in its place
        OPTION.decide(one.state, one.data, late, at("2026-03-22T09:00"), TERMS)
    assert refused.value.code == "wrong_state"
    assert one.state == other.state == "exercised"
    # Entered first, the termination was recorded and is now void, named by an item.
    assert void(one) == [] and void(other) == ["terminate"]
