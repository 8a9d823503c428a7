"""The answer a message id got the first time it was recorded, read back for a duplicate."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from services.store.db import Connection

_INBOX = (
    "SELECT outcome, refusal, workflow_id FROM inbox "
    "WHERE company_id = $1 AND kind = $2 AND message_id = $3"
)
_APPLIED = """
SELECT h.seq, h.events FROM history h JOIN workflows w USING (workflow_id)
WHERE h.workflow_id = $1 AND h.message_id = $2 AND w.company_id = $3 AND h.message->>'kind' = $4
"""
# A refusal recorded before ids were derived by ``services.ids`` has its old id; the new one
# (the first of ``$1``) is tried first, and both only among this company's rows.
_REFUSED = """
SELECT body FROM outbox WHERE message_id = ANY($1::text[]) AND company_id = $2
ORDER BY message_id = ($1::text[])[1] DESC LIMIT 1
"""
_STATE_AT = """
SELECT w.version, COALESCE(h.state_to, w.state) AS state
FROM workflows w LEFT JOIN history h
  ON h.workflow_id = w.workflow_id AND h.seq = COALESCE($3, w.version)
WHERE w.workflow_id = $1 AND w.company_id = $2
"""


@dataclass(frozen=True)
class Recorded:
    outcome: str
    workflow_id: UUID
    state: str | None
    version: int
    events: list[dict[str, Any]]
    refusal: dict[str, str] | None


async def recorded(
    connection: Connection,
    company: str,
    kind: str,
    message_id: str,
    refusal_event_ids: list[str],
) -> Recorded:
    """What the inbox recorded for a message, with the events it produced then."""
    inbox = await connection.fetchrow(_INBOX, company, kind, message_id)
    assert inbox is not None, "a recorded message's inbox row is committed before we read it"
    workflow_id: UUID = inbox["workflow_id"]
    events: list[dict[str, Any]] = []
    version = None
    if inbox["outcome"] == "applied":
        applied = await connection.fetchrow(_APPLIED, workflow_id, message_id, company, kind)
        if applied is not None:
            version, events = applied["seq"], applied["events"]
    elif inbox["outcome"] == "refused":
        body = await connection.fetchval(_REFUSED, refusal_event_ids, company)
        if body is not None:
            version, events = body["version"], [body]
    row = await connection.fetchrow(_STATE_AT, workflow_id, company, version)
    if row is None or version == 0:
        state, at = None, 0
    else:
        state, at = row["state"], version if version is not None else row["version"]
    return Recorded(inbox["outcome"], workflow_id, state, at, events, inbox["refusal"])
