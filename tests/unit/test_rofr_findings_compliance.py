"""Finding 10 of the ROFR read against its clauses: FMP §6(g) and §6(h) on every transfer.

FMP §6(b)(i): "Any Transfer of Purchased Shares permitted hereunder shall be subject to the
Securities Law Restrictions set forth in Section 6(g) and the S Corporation Restrictions set
forth in Section 6(h)". FMP §6(d)(iv): the owner's sale "must not be effected in contravention
of the provisions of Sections 6(g) or 6(h)".
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rofr_harness import FMP_COMPLIANCE, Flow, delivered, event, fmp_notice, iso, rd_notice

FMP, RD = "fmp-1998-nso", "raydream-1992-iso"
GIFT = {
    "holder": "alice",
    "shares": 100,
    "category": "gift_to_spouse_or_issue",
    "transferee": {"name": "Alice's daughter", "relationship": "issue"},
    "without_consideration": True,
}
SALE: dict[str, Any] = {
    "buyer": {"name": "Eve"},
    "shares": 1000,
    "price_per_share": "2.50",
    "sold_at": iso("2026-04-10T10:00"),
}


def consented_gift() -> Flow:
    flow = Flow(FMP)
    flow.send("propose_exempt_transfer", "owner", "2026-03-02T10:00", GIFT)
    flow.send(
        "consent_to_transfer",
        "company",
        "2026-03-05T12:00",
        {"consented_at": iso("2026-03-05T10:00")},
    )
    flow.send(
        "acknowledge_transfer_terms",
        "transferee",
        "2026-03-06T12:00",
        {"acknowledged_at": iso("2026-03-06T10:00")},
    )
    return flow


def test_an_exempt_transfer_is_subject_to_the_securities_law_and_s_corporation_restrictions() -> (
    None
):
    flow = consented_gift()
    done = {"transferred_at": iso("2026-03-10T10:00")}
    r = flow.refused("complete_exempt_transfer", "owner", "2026-03-10T12:00", done)
    assert r.rule == "FMP §6(b)(i) (subject to §6(g), §6(h))" and r.code == "condition_unmet"
    assert "payload.compliance" in r.reason
    d = flow.send(
        "complete_exempt_transfer",
        "owner",
        "2026-03-10T12:00",
        {**done, "compliance": FMP_COMPLIANCE},
    )
    assert flow.state == "exempt_transfer_completed"
    recorded = event(d, "exempt_transfer_completed")["compliance"]
    assert (
        recorded["securities_act"] == "exempt"
        and recorded["exemption"] == "Securities Act §4(a)(1)"
    )
    assert (recorded["securities_law_clause"], recorded["s_corporation_clause"]) == (
        "FMP §6(g)",
        "FMP §6(h)",
    )


def test_the_owners_sale_must_not_contravene_the_securities_law_or_s_corporation_restrictions() -> (
    None
):
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.fire("election_deadline")
    r = flow.refused("report_third_party_sale", "owner", "2026-04-10T12:00", SALE)
    assert r.rule == "FMP §6(d)(iv) (not in contravention of §6(g), §6(h))"
    d = flow.send(
        "report_third_party_sale",
        "owner",
        "2026-04-10T12:00",
        {**SALE, "compliance": FMP_COMPLIANCE},
    )
    assert flow.state == "sold_to_third_party"
    assert (
        event(d, "third_party_sale_reported")["compliance"]["s_corporation"]
        == "not_an_s_corporation"
    )


@pytest.mark.parametrize(
    ("missing", "payload"),
    [
        ("exemption", {k: v for k, v in FMP_COMPLIANCE.items() if k != "exemption"}),
        ("s_corporation", {k: v for k, v in FMP_COMPLIANCE.items() if k != "s_corporation"}),
    ],
)
def test_the_compliance_statement_names_its_exemption_and_the_s_corporation_position(
    missing: str, payload: dict[str, str]
) -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send(
        "waive_rofr", "company", "2026-03-05T12:00", {"notice": delivered("2026-03-05T09:00")}
    )
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-10T12:00", {**SALE, "compliance": payload}
    )
    assert missing in r.reason


def test_rd_terms_ask_no_such_statement() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    flow.fire("election_deadline")
    sale = {
        "buyer": {"name": "Dan Transferee"},
        "shares": 500,
        "sold_at": iso("2026-05-01T10:00"),
        "price_per_share": "4.00",
        "transferee_agreed_in_writing": True,
    }
    flow.send("report_third_party_sale", "owner", "2026-05-02T12:00", sale)
    assert flow.state == "transfer_pending_approval"
