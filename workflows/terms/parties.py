"""Who may send each command of a kind, as a terms section states it (each entry cited)."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator

from workflows.kernel import Party
from workflows.terms.base import Cited


def _no_system_party(v: dict[str, Cited[list[Party]]]) -> dict[str, Cited[list[Party]]]:
    for name, allowed in v.items():
        if Party.SYSTEM in allowed.value:
            raise ValueError(f"{name}: the system party is reserved for timers")
    return v


#: command → the parties who may send it; the system party is reserved for timers.
Parties = Annotated[dict[str, Cited[list[Party]]], AfterValidator(_no_system_party)]
