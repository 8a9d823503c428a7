"""Reconciliation items: facts a timely act entered later made void (``workflows.kit``).

They live in each workflow's data, under the kit's ``timeline``; these reads list the open
ones of a company, each with its workflow. Every query names its company, and the list reads
only the workflows that have an open item, through the partial index
``workflows_open_reconciliation`` (migration 0009), whose predicate it repeats.
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg

_OPEN_ITEMS = """
SELECT w.workflow_id, w.workflow_type, w.state, item
FROM workflows w, jsonb_array_elements(
    coalesce(w.data->'timeline'->'reconciliation', '[]'::jsonb)) AS item
WHERE w.company_id = $1
  AND w.data @? '$.timeline.reconciliation[*] ? (@.status == "open")'
  AND item->>'status' = 'open'
  AND ($2::uuid IS NULL OR w.workflow_id = $2)
ORDER BY item->>'raised_at', w.workflow_id, item->>'id'
LIMIT $3
"""


async def open_items(
    pool: asyncpg.Pool, company_id: str, *, workflow_id: UUID | None = None, limit: int = 200
) -> list[dict[str, Any]]:
    """The company's open items, oldest first: the workflow, the void fact, its clause and the
    act that contradicts it."""
    rows = await pool.fetch(_OPEN_ITEMS, company_id, workflow_id, limit)
    out = []
    for r in rows:
        item = r["item"]
        if isinstance(item, str):
            item = json.loads(item)
        out.append({"workflow_id": r["workflow_id"], "workflow_type": r["workflow_type"],
                    "state": r["state"], **item})  # fmt: skip
    return out


def items_of(data: Any) -> list[dict[str, Any]]:
    """The open items in one workflow's data (as read with the workflow)."""
    if isinstance(data, str):
        data = json.loads(data)
    timeline = (data or {}).get("timeline") or {}
    return [i for i in timeline.get("reconciliation") or [] if i.get("status") == "open"]
