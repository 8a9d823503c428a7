"""Clause → code in one hop: which rule functions enforce which values of the terms.

A rule declares the terms values it enforces with ``@enforces("rofr.election_window", ...)``;
each value in a terms document cites its clause. ``clause_table`` joins the two: every clause a
terms document cites, with its values and the functions that enforce them (``equityflow
clauses`` prints it; ``docs/clauses.md`` is generated from it).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

F = TypeVar("F", bound=Callable[..., Any])

#: terms path ("rofr.election_window") → the rule functions that enforce it, by qualified name.
ENFORCED: dict[str, list[str]] = defaultdict(list)


def enforces(*paths: str) -> Callable[[F], F]:
    """Mark a rule as enforcing the terms values at ``paths`` (each cites its own clause)."""

    def mark(fn: F) -> F:
        name = f"{fn.__module__}.{fn.__qualname__}"
        for path in paths:
            if name not in ENFORCED[path]:
                ENFORCED[path].append(name)
        return fn

    return mark


@dataclass(frozen=True)
class Cited:
    clause: str
    path: str
    value: Any


def cited(node: Any, path: str = "") -> Iterator[Cited]:
    """Every value of a terms document that cites its clause, with its path."""
    if isinstance(node, BaseModel):
        fields = node.model_dump(mode="json")
        clause = fields.get("clause")
        if isinstance(clause, str) and "value" in fields and set(fields) == {"value", "clause"}:
            yield Cited(clause, path, fields["value"])
            return
        if isinstance(clause, str):  # a block citing one clause for its plain values
            plain = {
                k: v
                for k, v in fields.items()
                if k != "clause" and v is not None and not _nested(v)
            }
            yield Cited(clause, path, plain)
        # A terms document's kind sections are extra fields of the model (``Terms.section``).
        for name in [*type(node).model_fields, *(node.__pydantic_extra__ or {})]:
            if name != "clause":
                yield from cited(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, list | tuple):
        for i, item in enumerate(node):
            yield from cited(item, f"{path}[{i}]")
    elif isinstance(node, dict):
        for key, item in node.items():
            yield from cited(item, f"{path}.{key}")


def _nested(value: Any) -> bool:
    return isinstance(value, dict) or (
        isinstance(value, list) and any(isinstance(v, dict) for v in value)
    )


def enforcers(path: str) -> list[str]:
    """The functions enforcing ``path`` or a value inside it, or else the nearest part of the
    terms containing it."""
    bare = path.split("[", 1)[0]
    inside = [fn for p, fns in ENFORCED.items() if p == bare or p.startswith(bare + ".")
              for fn in fns]  # fmt: skip
    if inside:
        return list(dict.fromkeys(inside))
    parts = bare.split(".")
    for i in range(len(parts) - 1, 0, -1):
        found = ENFORCED.get(".".join(parts[:i]))
        if found:
            return list(found)
    return []


def clause_table(terms: BaseModel) -> dict[str, list[tuple[str, Any, list[str]]]]:
    """Clause → [(terms path, value, enforcing functions)], in document order."""
    table: dict[str, list[tuple[str, Any, list[str]]]] = defaultdict(list)
    for c in cited(terms):
        table[c.clause].append((c.path, c.value, enforcers(c.path)))
    return dict(table)
