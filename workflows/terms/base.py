"""The building blocks of every terms section: a value with its clause, a window of days."""

from __future__ import annotations

from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")
Clause = str


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Cited(Strict, Generic[T]):
    """A value and the clause it comes from."""

    value: T
    clause: Clause = Field(min_length=1)


class Window(Strict):
    """``days`` calendar days after the event named by ``runs_from``."""

    days: int = Field(gt=0, le=3650)
    runs_from: Literal[
        "notice_effective", "notice_date", "election_deadline", "exercise_notice_effective"
    ]
    clause: Clause = Field(min_length=1)
    label: str = ""  # the start as the clause words it ("Disposition Notice received")
