"""Who acts for the company's side: the company, its board, or a recorded assignee.

FMP §16(c): the Company may at any time assign its rights; FMP §6(d)(iii) gives the right to
"the Company (or its assignees)". RD ISO ¶11(h): the Company may assign the right at any time, to
one or more persons. An assignee acts only once the company has recorded the assignment, and
only for itself: its waiver binds no one else.
"""

from __future__ import annotations

from workflows.kernel import Party, Refused
from workflows.kit.clauses import enforces
from workflows.rofr.context import Ctx

#: The parties on the company's side of the right (FMP §6(d)(iii): "the Company (or its
#: assignees)"); the owner is the other side.
COMPANY_SIDE = frozenset({Party.COMPANY, Party.BOARD, Party.ASSIGNEE})


def assignee_names(ctx: Ctx) -> set[str]:
    return {a["name"] for a in ctx.data.get("assignees") or []}


def acting_assignee(ctx: Ctx) -> str | None:
    """The name of the assignee sending this command, or None if it is not an assignee."""
    if ctx.party is not Party.ASSIGNEE:
        return None
    return ctx.actor.name if ctx.actor else ""


@enforces("rofr.assignable")
def check_assignee(ctx: Ctx) -> None:
    """An assignee acts only under an assignment the company recorded with ``assign_rofr``."""
    name = acting_assignee(ctx)
    if name is None:
        return
    if name not in assignee_names(ctx):
        raise Refused(
            ctx.rofr.assignable.clause,
            f"{name or 'this assignee'} holds no assignment of the right "
            "(the company records one with assign_rofr)",
            "not_authorised",
        )


def side(ctx: Ctx) -> str:
    """Which side of FMP §6(d)(iii)'s "the Owner and the Company (or its assignees)" acts."""
    return "company" if ctx.party in COMPANY_SIDE else "owner"
