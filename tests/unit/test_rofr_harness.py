"""A small driver for the pure ROFR workflow: the kit's harness with the ROFR's notices."""

from __future__ import annotations

from typing import Any

from kind_flow import CATALOG, PT, KindFlow, at, delivered, event, iso, mailed, types

from workflows import registry

ROFR = registry.kind("rofr")

__all__ = ["CATALOG", "PT", "ROFR", "at", "delivered", "event", "iso", "mailed", "types"]

#: FMP §6(g), §6(h): how a transfer meets the securities-law and S corporation restrictions
#: (asked of the owner's sale, FMP §6(d)(iv), and of an exempt transfer, FMP §6(b)(i)).
FMP_COMPLIANCE: dict[str, str] = {
    "securities_act": "exempt",
    "exemption": "Securities Act §4(a)(1)",
    "state_law": "exempt",
    "s_corporation": "not_an_s_corporation",
}


class Flow(KindFlow):
    """One ROFR workflow under ``terms_id``."""

    def __init__(self, terms_id: str) -> None:
        super().__init__("rofr", terms_id)


def fmp_notice(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "holder": "alice",
        "shares": 1000,
        "transferee": {"name": "Bob Buyer"},
        "consideration": {"form": "cash", "price_per_share": "2.50"},
        "compliance_proof": "counsel's letter: no breach of §6(b), (c), (g), (h)",
        "notice": delivered("2026-03-02T10:00"),
    }
    payload.update(overrides)
    return payload


def rd_notice(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "holder": "carol",
        "shares": 500,
        "transferee": {"name": "Dan Transferee", "address": "1 Main St, Palo Alto"},
        "consideration": {"form": "cash", "price_per_share": "4.00"},
        "bona_fide_evidence": "signed purchase agreement",
        "signed_by": [
            {"party": "owner", "name": "Carol Optionee"},
            {"party": "transferee", "name": "Dan Transferee"},
        ],
        "binding_commitment": True,
        "notice": {"method": "certified_mail", "delivered_at": iso("2026-03-02T11:00")},
    }
    payload.update(overrides)
    return payload
