"""What one exercise decision works with: the kit's context with the terms' exercise section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import TypeVar

from pydantic import BaseModel

from workflows.exercise.facts import ExerciseFacts
from workflows.kernel import Refused
from workflows.kit.context import Context
from workflows.kit.step import Step
from workflows.terms.exercise import ExerciseTerms

M = TypeVar("M", bound=BaseModel)

TAX_DATE = "tax_date"  # FMP §13(c)(iii): the Election is deemed approved if the Board is silent


@dataclass
class Ctx(Context):
    """An exercise decision's context: the kit's, plus the terms' exercise section."""

    @property
    def ex(self) -> ExerciseTerms:
        section = self.terms.option_exercise
        if section is None:
            raise Refused(
                f"terms {self.terms.id}",
                f"these terms ({self.terms.id}) have no option_exercise section: they do not "
                "govern the exercise of an option",
                "not_provided",
            )
        return section

    @property
    def clause(self) -> str:
        return self.ex.clause

    def typed(self, model: type[M]) -> M:
        """The payload as its command's model (the kit has already checked it fits)."""
        return model.model_validate(dict(self.payload))

    @property
    def facts(self) -> ExerciseFacts:
        return ExerciseFacts.model_validate(self.data["facts"])

    def day(self, when: datetime) -> date:
        return self.cal.local_date(when)

    def past(self, when: datetime, field: str) -> datetime:
        """``when`` from ``payload.<field>``, refused if it is after the time of entry."""
        if when > self.now:
            raise Refused(
                self.clause,
                f"payload.{field} {when.isoformat()} is in the future",
                "invalid_payload",
            )
        return when


def money(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.01")))


__all__ = ["TAX_DATE", "Ctx", "Step", "money"]
