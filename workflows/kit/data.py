"""A kind's persisted data: a model with a ``schema_version``, and a chain of pure upgrades.

A workflow may stay open for months (a sale window) or years (an option); the code that reads
its row may be newer than the code that wrote it. Every row is read through ``DataSchema.load``:
a row of an older version is upgraded one version at a time by pure functions, then checked
against the current model, and written back at the current version.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from workflows.kernel import Refused

Upgrade = Callable[[dict[str, Any]], dict[str, Any]]
VERSION_KEY = "schema_version"
_ATOMS = frozenset({str, int, float, bool, type(None)})


def copy_data(value: Any) -> Any:
    """A deep copy of a workflow's data for a rule to change: its dicts and lists copied and
    its strings and numbers shared, as ``copy.deepcopy`` does, several times faster (data read
    from JSON holds nothing else; anything else is deep-copied)."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _ATOMS else copy_data(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else copy_data(v) for v in value]
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


@dataclass(frozen=True)
class DataSchema:
    model: type[BaseModel]
    current: int
    #: version n → the pure function that turns a row of version n into one of version n + 1.
    upgrades: Mapping[int, Upgrade] = field(default_factory=dict)
    #: The version of a row written before rows carried one.
    unversioned: int = 1

    def __post_init__(self) -> None:
        missing = [v for v in range(self.unversioned, self.current) if v not in self.upgrades]
        assert not missing, f"no upgrade from versions {missing}"

    def load(self, raw: Mapping[str, Any], *, rule: str) -> dict[str, Any]:
        """The row as data of the current version (a new dict); an empty row is a new workflow."""
        data = dict(raw)
        if not data:
            return {VERSION_KEY: self.current}
        version = data.get(VERSION_KEY, self.unversioned)
        if not isinstance(version, int) or not self.unversioned <= version <= self.current:
            raise Refused(
                rule,
                f"the workflow's data is of version {version!r}; this code reads versions "
                f"{self.unversioned} to {self.current}: run the newer code",
                "unreadable_data",
            )
        while version < self.current:
            data = self.upgrades[version](data)
            version += 1
            data[VERSION_KEY] = version
        try:
            self.model.model_validate(data)
        except ValidationError as e:
            fields = "; ".join(f"{'.'.join(map(str, x['loc']))}: {x['msg']}" for x in e.errors())
            raise Refused(rule, f"the workflow's stored data is unreadable: {fields}",
                          "unreadable_data") from None  # fmt: skip
        return data
