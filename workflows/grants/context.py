"""What one grant decision works with: the kit's context, the terms' grant section, and the
facts of other workflows the engine loaded for it (``GrantingFacts``)."""

from __future__ import annotations

from dataclasses import dataclass

from workflows.grants.facts import GrantingFacts
from workflows.kernel import Refused
from workflows.kit.context import Context
from workflows.kit.step import Step
from workflows.terms.grant import GrantTerms

EXPIRY = "option_expiry"  # the grant's one timer


@dataclass
class Ctx(Context):
    facts: GrantingFacts | None = None

    @property
    def grant(self) -> GrantTerms:
        section = self.terms.grant
        if section is None:
            raise Refused(
                f"terms {self.terms.id}",
                f"these terms ({self.terms.id}) have no grant section: they do not govern "
                "option grants",
                "not_provided",
            )
        return section

    @property
    def clause(self) -> str:
        return self.grant.clause


__all__ = ["EXPIRY", "Ctx", "Step"]
