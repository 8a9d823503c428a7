"""A kind's commands, in one table: each name with its payload model and the rule that acts on it.

The table is the only list of a kind's commands: dispatch, the message schemas (OpenAPI and
AsyncAPI), the terms' parties and the tests read it from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from workflows.kernel import Refused
from workflows.kit.payload import SCHEMA_RULE, Payload

C = TypeVar("C")  # the kind's context
S = TypeVar("S")  # the kind's step


@dataclass(frozen=True)
class Spec(Generic[C, S]):
    """One command: the model its payload must fit and the rule that decides it (called with
    the context and the payload read into that model)."""

    payload: type[Payload]
    rule: Callable[[C, Any], S]
    #: A check made when the command is entered, never when an act of it already recorded is
    #: replayed: how a retired command is refused from now on while its recorded acts stand.
    admit: Callable[[C, Any], None] | None = None


@dataclass(frozen=True)
class CommandTable(Generic[C, S]):
    kind: str
    specs: Mapping[str, Spec[C, S]]
    #: Other names a command is known by (an agreement's own word for it) → the command.
    aliases: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        stray = {a: c for a, c in self.aliases.items() if c not in self.specs or a in self.specs}
        assert not stray, f"aliases must name a command and not be one: {stray}"

    def __iter__(self) -> Iterator[str]:
        return iter(self.specs)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self.specs)

    def resolve(self, name: str) -> str:
        """The command ``name`` stands for, or a refusal listing the kind's commands (422)."""
        command = self.aliases.get(name, name)
        if command not in self.specs:
            raise Refused(
                SCHEMA_RULE,
                f"unknown command {name!r} for a {self.kind} workflow; its commands: "
                f"{', '.join(self.specs)}"
                + "".join(f"; {alias} (= {to})" for alias, to in self.aliases.items()),
                "unknown_command",
            )
        return command

    def payloads(self) -> dict[str, type[Payload]]:
        """Every name a client may send (aliases included) → its payload model."""
        named: dict[str, Any] = {n: s.payload for n, s in self.specs.items()}
        return named | {a: self.specs[c].payload for a, c in self.aliases.items()}
