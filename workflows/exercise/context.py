"""What one exercise decision works with: the kit's context with the terms' exercise section,
and its grant's facts as the engine's register view loaded them (``GrantFacts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from workflows.exercise.facts import Circumstances, legacy
from workflows.grants.facts import GrantFacts
from workflows.kernel import Refused
from workflows.kit.context import Context
from workflows.kit.step import Step
from workflows.terms.exercise import ExerciseTerms

TAX_DATE = "tax_date"  # FMP §13(c)(iii): the Election is deemed approved if the Board is silent


@dataclass
class Ctx(Context):
    """An exercise decision's context: the kit's, plus the terms' exercise section and the
    grant's facts (None: the register holds no such grant of this company)."""

    grant_facts: GrantFacts | None = None

    @property
    def ex(self) -> ExerciseTerms:
        section = self.terms.section("option_exercise")
        if not isinstance(section, ExerciseTerms):
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

    def grant(self, grant_id: str | None = None) -> GrantFacts:
        """The grant's facts, read under its lock; refused when the register holds no grant
        ``grant_id`` (default: the exercise's own) for this company."""
        wanted = grant_id or self.data.get("grant") or self.data.get("grant_id")
        found = self.grant_facts
        if found is None and self.data.get("facts") and not self.data.get("grant"):
            found = legacy(self.data["facts"])[0]  # stored before the register view
        if found is None or found.grant_id != wanted:
            raise Refused(
                self.ex.exercisable.clause,
                f"the register holds no grant {wanted} of this company: an option is exercised "
                "under its grant",
                "no_grant",
            )
        return found

    @property
    def circumstances(self) -> Circumstances:
        if "circumstances" not in self.data and self.data.get("facts"):
            return legacy(self.data["facts"])[1]  # stored before the register view
        return Circumstances.model_validate(self.data["circumstances"])

    def local_day(self, when: datetime) -> date:
        """The company-calendar date of ``when`` (the kit's ``day`` reads a recorded date)."""
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
