"""Grants in PostgreSQL: which company, parties and scopes a principal holds.

Here, in the store, and not in ``services.auth``: registering a company gives its registrant a
full grant in the registration's own transaction (``services.store.companies``), and the auth
package records its changes in the store's audit entries, so both sides read this one module.
"""

from __future__ import annotations

from services.store.db import Connection

SCOPES = ("read", "command", "admin")
PARTIES = ("owner", "company", "assignee", "board", "escrow_agent", "transferee")


async def add_grant(
    c: Connection,
    principal_id: str,
    company_id: str | None,
    parties: list[str],
    scopes: list[str],
) -> None:
    await c.execute(
        "INSERT INTO grants (principal_id, company_id, parties, scopes) VALUES ($1, $2, $3, $4)",
        principal_id,
        company_id,
        sorted(set(parties), key=PARTIES.index),
        sorted(set(scopes), key=SCOPES.index),
    )
