"""The valuation and plan registers over HTTP: what the register view reads for a grant.

``PUT /api/v1/companies/{company_id}/valuations/{effective_on}`` records a Board determination
of fair market value (FMP §4(a)(ii); RD Plan ¶6(A)); ``PUT .../plans/{plan}`` a plan's
adoption and approval dates (RD Plan ¶5). Both need the ``command`` scope and the ``board``
party (the Board determines and adopts). Sending the same entry again answers 200 and changes
nothing; a different one under the same key is 409: a determination is superseded by a later
one, never changed. ``GET .../valuations`` lists them (``read`` scope).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path
from pydantic import BaseModel, ConfigDict, Field

from services.api.access import Caller, company_grant, require_party
from services.api.companies import CompanyId
from services.api.deps import Pool
from services.api.docs import problems
from services.api.problems import Problem
from services.store import registers

PlanId = Annotated[str, Path(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.-]+$")]
Resolution = Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00-\x1f\x7f]*$")]


class ValuationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # A decimal string above zero, so the schema says exactly what is accepted.
    price_per_share: str = Field(
        pattern=r"^([1-9][0-9]{0,13}(\.[0-9]{1,10})?|0\.0{0,9}[1-9][0-9]{0,9})$",
        description="per share, a decimal string above 0",
        examples=["0.20"],
    )
    method: Literal["closing_price", "mean_of_bid_and_ask", "board_good_faith"] = Field(
        description="FMP §4(a)(ii)(1)-(3): last closing price when listed, mean of bid and "
        "ask when quoted without sales, the Board's good faith otherwise"
    )
    resolution: Resolution = Field(description="the Board resolution that made it")


class PlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    board_adopted_on: date | None = None
    shareholders_approved_on: date | None = None


router = APIRouter()


@router.put(
    "/api/v1/companies/{company_id}/valuations/{effective_on}",
    responses=problems(400, 401, 403, 404, 409, 422),
)
async def record_valuation(
    company_id: CompanyId, effective_on: date, body: ValuationIn, who: Caller, pool: Pool
) -> dict[str, Any]:
    """Record a Board determination of fair market value, in force from ``effective_on``."""
    require_party(company_grant(who, company_id, "command"), company_id, "board")
    price = Decimal(body.price_per_share)
    v = registers.Valuation(effective_on, price, body.method, body.resolution)
    created = await _recorded_once(
        registers.record_valuation(pool, company_id, v, by=who.principal_id),
        "Determination recorded",
        lambda recorded: (
            f"a different determination is recorded as effective {effective_on}: "
            f"{recorded['resolution']}; record a new one with a later date instead"
        ),
    )
    return {"company_id": company_id, "effective_on": effective_on.isoformat(),
            **body.model_dump(mode="json"), "created": created}  # fmt: skip


@router.get("/api/v1/companies/{company_id}/valuations", responses=problems(401, 403, 404, 422))
async def list_valuations(company_id: CompanyId, who: Caller, pool: Pool) -> list[dict[str, Any]]:
    """The company's valuation register, oldest first."""
    company_grant(who, company_id, "read")
    return [
        {
            "effective_on": v.effective_on.isoformat(),
            "price_per_share": f"{v.price_per_share:f}",
            "method": v.method,
            "resolution": v.resolution,
        }
        for v in await registers.valuations(pool, company_id)
    ]


@router.put(
    "/api/v1/companies/{company_id}/plans/{plan}",
    responses=problems(400, 401, 403, 404, 409, 422),
)
async def record_plan(
    company_id: CompanyId, plan: PlanId, body: PlanIn, who: Caller, pool: Pool
) -> dict[str, Any]:
    """Record when a plan was adopted by the Board and approved by the shareholders."""
    require_party(company_grant(who, company_id, "command"), company_id, "board")
    p = registers.Plan(plan, body.board_adopted_on, body.shareholders_approved_on)
    created = await _recorded_once(
        registers.record_plan(pool, company_id, p, by=who.principal_id),
        "Plan recorded",
        lambda _: f"plan {plan} is recorded with other dates",
    )
    return {"company_id": company_id, "plan": plan, **body.model_dump(mode="json"),
            "created": created}  # fmt: skip


async def _recorded_once(
    record: Awaitable[bool], title: str, refusal: Callable[[dict[str, Any]], str]
) -> bool:
    """``record``'s answer: True if the entry is new, False if the same was recorded before. A
    different entry under the same key is refused (409 ``already_recorded``, ``refusal`` of the
    recorded one saying why): an entry is superseded by a later one, never changed."""
    try:
        return await record
    except registers.Conflict as e:
        raise Problem(409, title, refusal(e.recorded), code="already_recorded") from e
