"""A kind's chart (a python-statemachine class) as the rule of where each move is legal.

``decide`` never sets a state by hand: each rule names a transition, and the target comes from
the chart, so a move the diagram does not allow cannot happen.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property

from statemachine import State, StateMachine
from statemachine.contrib.diagram import formatter

from workflows.kernel import Refused


@dataclass(frozen=True)
class Chart:
    machine: type[StateMachine]
    #: Each state as a user would say it, for refusals ("while the transfer is ...").
    words: Mapping[str, str] = field(default_factory=dict)
    #: What the workflow is, in a refusal: "the transfer".
    subject: str = "the workflow"

    @cached_property
    def states(self) -> dict[str, State]:
        return {s.id: s for s in self.machine.states}

    @cached_property
    def transitions(self) -> dict[tuple[str, str], State]:
        """(source state, transition) → target, from the chart."""
        table: dict[tuple[str, str], State] = {}
        for state in self.machine.states:
            for transition in state.transitions:
                for event in transition.events:
                    table[(state.id, str(event.id))] = transition.target
        return table

    def sources(self, *transitions: str) -> frozenset[str]:
        """The states where any of ``transitions`` is legal."""
        return frozenset(s for s, t in self.transitions if t in transitions)

    def finals(self) -> frozenset[str]:
        return frozenset(s for s, state in self.states.items() if state.final)

    def describe(self, state: str) -> str:
        return self.words.get(state, state.replace("_", " "))

    def target(self, state: str, transition: str, *, rule: str, action: str) -> State:
        """The state a legal transition leads to; Refused citing ``rule`` if the chart forbids
        it."""
        found = self.transitions.get((state, transition))
        if found is None:
            raise Refused(
                rule,
                f"cannot {action} while {self.subject} is {self.describe(state)}",
                "wrong_state",
            )
        return found

    def mermaid(self, current: str | None = None) -> str:
        """The chart as a Mermaid state diagram, ``current`` marked (python-statemachine draws
        it from the same class that decides, so the diagram is the rule)."""
        machine = self.machine(start_value=current) if current else self.machine
        return str(formatter.render(machine, "mermaid"))

    def check(self, transitions: set[str]) -> None:
        """Every transition a rule may name is on the chart (a chart check for tests)."""
        named = {t for _, t in self.transitions}
        missing = transitions - named
        assert not missing, f"rules name transitions the chart lacks: {sorted(missing)}"
