"""The kit's harness for kinds that read other workflows' facts: each step hands ``facts`` to
``decide`` as the engine's register view will."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from kind_flow import KindFlow

RD_ISO, RD_NSO, FMP = "raydream-1992-iso", "raydream-1992-nso", "fmp-1998-nso"


class FactFlow(KindFlow):
    def __init__(self, workflow_type: str, terms_id: str, facts: Any = None) -> None:
        super().__init__(workflow_type, terms_id)
        self.facts = facts
        module = self.kind
        self.kind = SimpleNamespace(  # type: ignore[assignment]
            decide=lambda *args: module.decide(*args, facts=self.facts)
        )


def rd_facts(**plan: Any) -> dict[str, Any]:
    """The Board's FMV in force and the plan's record, as the register view loads them."""
    return {
        "fmv": {
            "price_per_share": "0.20",
            "effective_on": "1993-02-15",
            "resolution": "BR-1993-02",
            "method": "board_good_faith",
        },
        "plan": {"adopted_on": "1992-06-01", "shares_committed": 100_000, **plan},
    }


def rd_grant(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "optionee": "carol",
        "plan": "raydream-1992",
        "shares": 4800,
        "exercise_price": "0.20",
        "grant_date": "1993-03-01",
        "initial_vesting_date": "1993-04-30",
    }
    payload.update(overrides)
    return payload


def fmp_grant(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "optionee": "alice",
        "plan": "fmp-1998",
        "shares": 1000,
        "exercise_price": "1.50",
        "grant_date": "2026-01-15",
        "expiration_date": "2036-01-15",
        "installments": [
            {"on": "2027-01-15", "shares": 250},
            {"on": "2028-01-15", "shares": 250},
            {"on": "2029-01-15", "shares": 500},
        ],
    }
    payload.update(overrides)
    return payload
