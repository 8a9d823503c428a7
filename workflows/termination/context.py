"""What one termination decision works with: the kit's context, the terms' termination section,
and the terminated grant's facts (``GrantFacts``) as the engine loaded them."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.calendar import Deadline
from workflows.grants.facts import GrantFacts
from workflows.kernel import Refused
from workflows.kit.context import Context
from workflows.kit.step import Step
from workflows.terms.termination import TerminationTerms

WINDOW = "exercise_window_end"  # the termination's one timer


@dataclass
class Ctx(Context):
    facts: GrantFacts | None = None

    @property
    def termination(self) -> TerminationTerms:
        section = self.terms.termination
        if section is None:
            raise Refused(
                f"terms {self.terms.id}",
                f"these terms ({self.terms.id}) have no termination section",
                "not_provided",
            )
        return section

    @property
    def clause(self) -> str:
        return self.termination.clause

    def grant(self) -> GrantFacts:
        if self.facts is None:
            raise Refused(
                self.clause,
                "the terminated grant's facts were not provided: the engine loads them from the "
                "grant register",
                "facts_unavailable",
            )
        return self.facts

    def expiration(self) -> Deadline:
        return Deadline.from_dict(self.data["expiration"])


__all__ = ["WINDOW", "Ctx", "Step"]
