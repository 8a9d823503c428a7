"""The targets of a fan-out (``workflows.kernel.SendToEach``): every open workflow of a type of
the company whose data field matches, each field read through its own index
(``workflows_company_holder``, ``workflows_by_optionee``, ``workflows_by_grant``): each
statement names the indexed expression literally, so the planner can use the index.
"""

from __future__ import annotations

from uuid import UUID

from services.store.db import Connection

_BY_FIELD = {
    "holder": """
        SELECT workflow_id FROM workflows
        WHERE company_id = $1 AND (data->>'holder') = $2 AND workflow_type = $3 AND NOT final
        ORDER BY workflow_id
    """,
    "optionee": """
        SELECT workflow_id FROM workflows
        WHERE company_id = $1 AND (data->>'optionee') = $2 AND workflow_type = $3 AND NOT final
        ORDER BY workflow_id
    """,
    "grant": """
        SELECT workflow_id FROM workflows
        WHERE company_id = $1 AND (data->>'grant') = $2 AND workflow_type = $3 AND NOT final
        ORDER BY workflow_id
    """,
}


async def targets(
    c: Connection, company_id: str, workflow_type: str, field: str, value: str
) -> list[UUID]:
    rows = await c.fetch(_BY_FIELD[field], company_id, value, workflow_type)
    return [r["workflow_id"] for r in rows]
