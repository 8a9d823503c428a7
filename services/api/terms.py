"""The terms catalog over HTTP: the ids a company may register under, and each document as a
workflow pins it. Any valid key reads them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from services.api.access import Caller
from services.api.deps import Catalog
from services.api.docs import problems
from services.api.problems import Problem
from services.terms_catalog import UnknownTerms

router = APIRouter()


@router.get("/api/v1/terms", responses=problems(401))
async def list_terms(_: Caller, catalog: Catalog) -> list[str]:
    return catalog.ids()


@router.get("/api/v1/terms/{terms_id}", responses=problems(401, 404))
async def get_terms(terms_id: str, _: Caller, catalog: Catalog) -> dict[str, Any]:
    try:
        return catalog.raw(terms_id)
    except UnknownTerms as e:
        raise Problem(404, "Unknown terms", str(e)) from e
