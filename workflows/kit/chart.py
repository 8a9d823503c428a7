"""A kind's chart (a python-statemachine class) as the rule of where each move is legal.

``decide`` never sets a state by hand: each rule records what happened and names the event; the
chart picks, among that event's transitions from the current state, the first whose conditions
(``cond=``/``unless=``, guard functions of the context) hold, and its target's entry effects
(``State(enter=...)``) run. A move the diagram does not allow cannot happen, and the diagram
shows every guard and entry effect by name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from statemachine import State, StateMachine
from statemachine.callbacks import SpecReference
from statemachine.contrib.diagram import formatter
from statemachine.contrib.diagram.renderers.mermaid import MermaidRendererConfig
from statemachine.transition import Transition

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
    def moves(self) -> dict[tuple[str, str], tuple[Transition, ...]]:
        """(source state, event) → its transitions, in the chart's order (the first whose
        conditions hold is taken, as python-statemachine does)."""
        table: dict[tuple[str, str], list[Transition]] = {}
        for state in self.machine.states:
            for transition in state.transitions:
                for event in transition.events:
                    table.setdefault((state.id, str(event.id)), []).append(transition)
        return {k: tuple(v) for k, v in table.items()}

    @cached_property
    def transitions(self) -> dict[tuple[str, str], frozenset[str]]:
        """(source state, event) → the states it may lead to, by its guards."""
        return {
            key: frozenset(str(t.target.id) for t in moves if t.target)
            for key, moves in self.moves.items()
        }

    @cached_property
    def _sources(self) -> dict[str, frozenset[str]]:
        """event → the states where it is legal (read once: rules ask on every message)."""
        table: dict[str, set[str]] = {}
        for state, event in self.moves:
            table.setdefault(event, set()).add(state)
        return {event: frozenset(states) for event, states in table.items()}

    def sources(self, *events: str) -> frozenset[str]:
        """The states where any of ``events`` is legal."""
        if len(events) == 1:
            return self._sources.get(events[0], frozenset())
        return frozenset().union(*(self._sources.get(e, frozenset()) for e in events))

    def finals(self) -> frozenset[str]:
        return frozenset(s for s, state in self.states.items() if state.final)

    def describe(self, state: str) -> str:
        return self.words.get(state, state.replace("_", " "))

    @cached_property
    def _compiled(self) -> dict[int, tuple[list[Guard], list[Callable[..., None]]]]:
        """Each transition's guards and entry effects (by the transition's id), read once from
        python-statemachine's callback specs: reading them costs more than most rules."""
        every = [t for moves in self.moves.values() for t in moves]
        return {id(t): (_guards(t), self.entry_effects(t)) for t in every}

    def take(self, state: str, event: str, ctx: Any, *, rule: str, action: str) -> Transition:
        """The transition ``event`` takes from ``state`` for ``ctx``: the first whose guards
        hold; Refused citing ``rule`` if the chart has none."""
        for transition in self.moves.get((state, event), ()):
            guards, _ = self._compiled[id(transition)]
            if all(bool(fn(ctx)) == expected for fn, expected in guards):
                return transition
        raise Refused(
            rule, f"cannot {action} while {self.subject} is {self.describe(state)}", "wrong_state"
        )

    def effects(self, transition: Transition) -> list[Callable[..., None]]:
        """``entry_effects`` of a transition ``take`` returned, as read once."""
        found = self._compiled.get(id(transition))
        return self.entry_effects(transition) if found is None else found[1]

    @staticmethod
    def entry_effects(transition: Transition) -> list[Callable[..., None]]:
        """What entering the target runs: nothing on an internal transition (the state is not
        left), its ``enter`` effects otherwise (an external self-loop enters afresh)."""
        if transition.internal or transition.target is None:
            return []
        return [spec.func for spec in transition.target.enter if _declared(spec)]

    def mermaid(self, current: str | None = None) -> str:
        """The chart as a Mermaid state diagram, ``current`` marked (python-statemachine draws
        it from the same class that decides, so the diagram is the rule)."""
        text = str(formatter.render(self.machine, "mermaid"))
        if current is None:
            return text
        # Marked as python-statemachine marks an active state, without starting a machine (which
        # would run the entry effects of ``current``).
        assert current in self.states, current
        style = MermaidRendererConfig()
        return (
            f"{text}\n    classDef active fill:{style.active_fill},stroke:{style.active_stroke}\n"
            f"    {current}:::active\n"
        )

    def check(self, events: set[str]) -> None:
        """Every event a rule may name is on the chart (a chart check for tests)."""
        named = {e for _, e in self.moves}
        missing = events - named
        assert not missing, f"rules name events the chart lacks: {sorted(missing)}"


def _declared(spec: Any) -> bool:
    return not spec.is_convention and spec.reference is SpecReference.CALLABLE


Guard = tuple[Callable[[Any], object], bool]


def _guards(transition: Transition) -> list[Guard]:
    specs = [s for s in transition.cond if not s.is_convention]
    assert all(s.reference is SpecReference.CALLABLE for s in specs), (
        f"{transition}: a guard must be a function of the context, not a name"
    )
    return [(s.func, bool(s.expected_value)) for s in specs]
