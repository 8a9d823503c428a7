"""The register view's reads: the facts kinds declare (``workflows.reads``), read in the
batch's own transaction after its locks are taken (``unit_load.lock_and_load``), each by index.

- ``peek``: the batch's workflows before any lock, only to learn which facts their messages
  will read (a termination names its grant in its data); what they name never changes once
  set, and the engine checks again under the locks.
- ``grants``: each grant's row with its termination's and its exercises' claims
  (``workflows_by_grant``): read under the grant's lock, which every exercise of the grant takes
  too, so a claim committed before is seen and none is committed meanwhile.
- ``fmv_in_force``: the latest determination effective on or before a day (the valuations
  primary key, read backwards: one probe).
- ``registers``: a company's share register, at the id derived from the company (its primary
  key), for ``HoldersOfRecord``.
- ``plans``: a plan's recorded dates and the shares its grants commit (``workflows_grants_by_plan``;
  the grants of the batch itself are left out, the engine adds them as the batch has them), and
  the shares of the plan the Company repurchased, from the company's share register (its
  primary key; ``workflows.shares.plans``), read under the register's lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from services.store.db import Connection

_PEEK = """
SELECT workflow_id, company_id, workflow_type, state, data FROM workflows
WHERE workflow_id = ANY($1::uuid[])
"""
_GRANTS = """
SELECT g.workflow_id, g.company_id, g.state, g.data, t.workflow_id AS termination_id,
       t.data AS termination, x.exercises
FROM workflows g
LEFT JOIN LATERAL (
  SELECT t.workflow_id, t.data FROM workflows t
  WHERE t.company_id = g.company_id AND t.data->>'grant' = g.workflow_id::text
    AND t.workflow_type = 'termination'
  ORDER BY t.created_at LIMIT 1
) t ON true
LEFT JOIN LATERAL (
  SELECT COALESCE(jsonb_agg(jsonb_build_object(
           'exercise', e.workflow_id::text, 'state', e.state, 'claim', e.data->'claim')),
         '[]'::jsonb) AS exercises
  FROM workflows e
  WHERE e.company_id = g.company_id AND e.data->>'grant' = g.workflow_id::text
    AND e.workflow_type = 'option_exercise' AND e.data ? 'claim'
) x ON true
WHERE g.workflow_id = ANY($1::uuid[]) AND g.workflow_type = 'grant'
"""
_FMV = """
SELECT k.company_id, k.on_day, v.effective_on, v.price_per_share, v.method, v.resolution
FROM unnest($1::text[], $2::date[]) AS k(company_id, on_day)
CROSS JOIN LATERAL (
  SELECT v.effective_on, v.price_per_share, v.method, v.resolution FROM valuations v
  WHERE v.company_id = k.company_id AND v.effective_on <= k.on_day
  ORDER BY v.effective_on DESC LIMIT 1
) v
"""
#: A grant's shares committed to its plan (RD Plan ¶4): all of them while outstanding, less the
#: unvested part forfeited and the unexercised part expired at its termination; once expired,
#: only what was exercised. ``workflows.grants.register.shares_committed`` is the same rule.
COMMITTED = """
CASE WHEN w.state = 'new' THEN 0
     WHEN w.state = 'expired' THEN COALESCE((w.data->>'exercised')::bigint, 0)
     ELSE (w.data->>'shares')::bigint
          - COALESCE((w.data->'termination'->>'forfeited')::bigint, 0)
          - COALESCE((w.data->'termination'->>'expired')::bigint, 0)
END
"""
_PLANS = f"""
SELECT k.company_id, k.plan, p.board_adopted_on, p.shareholders_approved_on,
  (SELECT COALESCE(sum({COMMITTED}), 0) FROM workflows w
   WHERE w.company_id = k.company_id AND w.workflow_type = 'grant' AND w.data->>'plan' = k.plan
     AND w.workflow_id <> ALL($3::uuid[]))::bigint AS committed,
  COALESCE((r.data->'plan_returns'->>k.plan)::bigint, 0) AS repurchased
FROM unnest($1::text[], $2::text[], $4::uuid[]) AS k(company_id, plan, register_id)
LEFT JOIN plans p ON p.company_id = k.company_id AND p.plan = k.plan
LEFT JOIN workflows r ON r.workflow_id = k.register_id AND r.workflow_type = 'share_register'
"""


_REGISTERS = """
SELECT workflow_id, company_id, state, data FROM workflows
WHERE workflow_id = ANY($1::uuid[]) AND workflow_type = 'share_register'
"""


async def registers(c: Connection, register_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    """The share registers by id (each company's at its derived id: a primary-key probe)."""
    if not register_ids:
        return {}
    return {r["workflow_id"]: r for r in await c.fetch(_REGISTERS, sorted(set(register_ids)))}


async def peek(c: Connection, workflow_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    return {r["workflow_id"]: r for r in await c.fetch(_PEEK, sorted(set(workflow_ids)))}


async def grants(c: Connection, grant_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    if not grant_ids:
        return {}
    return {r["workflow_id"]: r for r in await c.fetch(_GRANTS, sorted(set(grant_ids)))}


async def fmv_in_force(
    c: Connection, asked: Sequence[tuple[str, date]]
) -> dict[tuple[str, date], dict[str, Any]]:
    if not asked:
        return {}
    rows = await c.fetch(_FMV, [a[0] for a in asked], [a[1] for a in asked])
    return {
        (r["company_id"], r["on_day"]): {
            "price_per_share": r["price_per_share"],
            "effective_on": r["effective_on"],
            "method": r["method"],
            "resolution": r["resolution"],
        }
        for r in rows
    }


async def plans(
    c: Connection,
    asked: Sequence[tuple[str, str, UUID]],
    batch_ids: Sequence[UUID],
) -> dict[tuple[str, str], asyncpg.Record]:
    """Each (company, plan, the company's share register id) asked."""
    if not asked:
        return {}
    rows = await c.fetch(
        _PLANS, [a[0] for a in asked], [a[1] for a in asked], list(batch_ids), [a[2] for a in asked]
    )
    return {(r["company_id"], r["plan"]): r for r in rows}
