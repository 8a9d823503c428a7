"""What one register decision works with: the kit's context and the terms' register section."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from workflows.kernel import Refused
from workflows.kit.context import Context
from workflows.kit.step import Step
from workflows.terms.share_register import ShareRegisterTerms

M = TypeVar("M", bound=BaseModel)


@dataclass
class Ctx(Context):
    #: The command's payload as its model, handed to the rule by the kit.
    given: Any = None

    @property
    def reg(self) -> ShareRegisterTerms:
        section = self.terms.section("share_register")
        if not isinstance(section, ShareRegisterTerms):
            raise Refused(
                f"terms {self.terms.id}",
                f"these terms ({self.terms.id}) have no share_register section: they keep no "
                "share register",
                "not_provided",
            )
        return section

    @property
    def clause(self) -> str:
        return self.reg.clause

    def typed(self, model: type[M]) -> M:
        """The payload as its command's model, once the register is open (the chart would
        refuse the move anyway; the rules never read a register that is not there)."""
        if self.state == "new" and self.command != "open_share_register":
            raise Refused(
                self.clause,
                f"cannot {self.command.replace('_', ' ')} while the share "
                "register is not yet opened: open_share_register first",
                "wrong_state",
            )
        assert isinstance(self.given, model)
        return self.given

    def past(self, when: datetime, field: str) -> datetime:
        """An act's effective instant: never after it is entered, never before the register
        was opened (acts are judged by when they took effect)."""
        if when > self.now:
            raise Refused(
                self.clause,
                f"payload.{field} {when.isoformat()} is in the future",
                "invalid_payload",
            )
        opened = self.data.get("opened_at")
        if opened and when < datetime.fromisoformat(opened):
            raise Refused(
                self.clause,
                f"payload.{field} {when.isoformat()} is before the register was opened ({opened})",
                "invalid_payload",
            )
        return when

    @property
    def certificates(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.data.setdefault("certificates", {})
        return found

    @property
    def holders(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = self.data.setdefault("holders", {})
        return found


__all__ = ["Ctx", "Step"]
