"""Who may send which command: read from the terms, which cite the clause for each."""

from __future__ import annotations

from collections.abc import Mapping

from workflows.kernel import Party, Refused
from workflows.terms import Cited


def authorise(
    parties: Mapping[str, Cited[list[Party]]],
    command: str,
    party: Party,
    *,
    clause: str,
    terms_id: str,
) -> None:
    """Refuse ``party`` sending ``command`` unless the terms name it; ``clause`` is cited when
    the terms provide no such command at all."""
    allowed = parties.get(command)
    if allowed is None:
        raise Refused(clause, f"these terms ({terms_id}) provide no {command}", "not_provided")
    if party not in allowed.value:
        who = ", ".join(str(p) for p in allowed.value)
        raise Refused(
            allowed.clause,
            f"the {party} may not {command.replace('_', ' ')}; only: {who}",
            "not_authorised",
        )
