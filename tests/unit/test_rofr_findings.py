"""Findings 3, 4, 5, 8 and 9 of the ROFR read against its clauses: each outcome as the text gives
it (findings 6 and 7, the assignees: test_rofr_findings_assignees; 10, FMP §6(g)/(h):
test_rofr_findings_compliance)."""

from __future__ import annotations

import pytest
from test_rofr_harness import Flow, at, delivered, event, rd_notice

FMP, RD = "fmp-1998-nso", "raydream-1992-iso"


# -- 3. RD ISO ¶11(b), ¶11(d): a written notice, by any means, effective when delivered ---------


@pytest.mark.parametrize("terms", [RD, "raydream-1992-nso"])
@pytest.mark.parametrize("method", ["courier", "first_class_mail", "email", "fax"])
def test_an_rd_transfer_notice_in_writing_by_any_means_opens_the_window(
    terms: str, method: str
) -> None:
    flow = Flow(terms)
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(notice=delivered("2026-03-02T11:00", method)),
    )
    assert flow.state == "election_window"
    # ¶11(d): 30 days after the date the Transfer Notice is delivered
    assert flow.deadline("election_deadline") == at("2026-04-01T23:59:59.999999")
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"notice": delivered("2026-03-20T09:00", method)},
    )
    assert flow.state == "closing"
    assert event(d, "rofr_exercised")["notice"]["method"] == method
    assert (
        event(d, "rofr_exercised")["notice"]["clause"]
        == f"RD {terms[-3:].upper()} ¶11(b), ¶11(d) (a written notice, effective when delivered)"
    )


def test_an_rd_notice_by_mail_counts_from_delivery_not_from_deposit() -> None:
    flow = Flow(RD)
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-05T12:00",
        rd_notice(notice={"method": "first_class_mail", "deposited_at": "2026-03-02T09:00-08:00"}),
    )
    assert r.rule.startswith("RD ISO ¶11(b)") and "delivered_at" in r.reason
