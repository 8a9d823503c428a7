"""Findings 3, 4, 5, 8 and 9 of the ROFR read against its clauses: each outcome as the text gives
it (findings 6 and 7, the assignees: test_rofr_findings_assignees; 10, FMP §6(g)/(h):
test_rofr_findings_compliance)."""

from __future__ import annotations

import pytest
from test_rofr_harness import Flow, at, delivered, event, fmp_notice, iso, rd_notice, types

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


# -- 5. RD ISO ¶11(b): a gift's or involuntary transfer's price is the FMV the company determines -


@pytest.mark.parametrize("transfer_type", ["gift", "involuntary"])
def test_a_stated_price_on_a_gift_or_involuntary_transfer_still_needs_the_companys_fmv(
    transfer_type: str,
) -> None:
    flow = Flow(RD)
    notice = rd_notice(
        transfer_type=transfer_type, consideration={"form": "cash", "price_per_share": "1.00"}
    )
    d = flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", notice)
    assert event(d, "transfer_notice_received")["price_basis"] == (
        "fair_market_value_determined_by_company"
    )
    assert flow.data["consideration"]["price_per_share"] == "1.00"  # kept for the record
    r = flow.refused(
        "exercise_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    assert r.rule == "RD ISO ¶11(b)" and "price_per_share" in r.reason
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"price_per_share": "3.10", "notice": delivered("2026-03-10T09:00")},
    )
    assert flow.state == "closing"
    assert flow.data["fair_market_value_per_share"] == "3.10"


# -- 8. RD ISO ¶11(i): the right ends "the other provisions of this paragraph 11 notwithstanding" -


def test_an_rd_lapse_is_recorded_while_a_transfer_awaits_approval() -> None:
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
    d = flow.send(
        "record_lapse_event",
        "company",
        "2026-05-05T09:00",
        {
            "event": "public_market_exists",
            "market": "national_exchange",
            "occurred_at": iso("2026-05-04T06:30"),
        },
    )
    assert flow.state == "lapsed" and d.final
    assert types(d)[:1] == ["rofr_lapsed"]
    recorded = event(d, "transfer_recorded")
    assert recorded["shares"] == 500 and recorded["clause"] == "RD ISO ¶11(i)(ii)"
    assert recorded["approval_needed"] is False


# -- 9. RD ISO ¶11(c): an insufficiency finding is for a proposed voluntary transfer -------------


def test_an_involuntary_transfer_notice_cannot_be_found_insufficient() -> None:
    flow = Flow(RD)
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(transfer_type="involuntary", consideration={"form": "cash"}),
    )
    finding = {
        "ground": "insufficient_information",
        "reason": "no court order attached",
        "notice": delivered("2026-03-05T09:00"),
    }
    r = flow.refused("reject_transfer_notice", "company", "2026-03-05T12:00", finding)
    assert r.rule == "RD ISO ¶11(c) (a proposed voluntary transfer)"
    assert "voluntary" in r.reason
    flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {**finding, "ground": "not_bona_fide", "reason": "a collusive judgment"},
    )
    assert flow.state == "transfer_not_permitted"


@pytest.mark.parametrize("transfer_type", ["sale", "gift"])
def test_a_voluntary_transfer_notice_can_still_be_found_insufficient(transfer_type: str) -> None:
    flow = Flow(RD)
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(transfer_type=transfer_type),
    )
    flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {
            "ground": "insufficient_information",
            "reason": "no purchase agreement",
            "notice": delivered("2026-03-05T09:00"),
        },
    )
    assert flow.state == "notice_insufficient"


# -- 4. FMP §6(d)(iii): the company's 30 days for "any or all" outlast the owner's (A) or (B) ----


def fmp_part_then(alternative: str) -> Flow:
    """1000 Target Shares noticed 2026-03-02 (the company's 30 days end 2026-04-01); 400 elected
    2026-03-10; the owner's written choice 2026-03-15."""
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-03-15T12:00",
        {"alternative": alternative, "notice": delivered("2026-03-15T10:00")},
    )
    return flow


def test_after_a_written_a_the_company_may_still_exercise_for_all_within_its_30_days() -> None:
    flow = fmp_part_then("third_party_sale")
    assert flow.state == "owner_sale_window"
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"shares": 600, "notice": delivered("2026-03-20T09:00")},
    )
    assert flow.state == "closing" and flow.data["purchase_shares"] == 1000
    exercised = event(d, "rofr_exercised")
    assert exercised["scope"] == "all"
    assert exercised["superseded_choice"]["alternative"] == "third_party_sale"
    assert "sale_window_end" in d.cancel_timers
    # FMP §6(d)(iii): closing not more than 30 days after this Exercise Notice
    assert flow.deadline("closing_deadline") == at("2026-04-19T23:59:59.999999")


def test_after_a_written_a_a_further_part_exercise_is_recorded_and_the_a_stands() -> None:
    flow = fmp_part_then("third_party_sale")
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"shares": 300, "notice": delivered("2026-03-20T09:00")},
    )
    assert flow.state == "owner_sale_window" and flow.data["elected_shares"] == 700
    assert flow.data["owner_choice"]["alternative"] == "third_party_sale"


def test_after_b_a_further_exercise_enlarges_the_companys_purchase() -> None:
    flow = fmp_part_then("sale_to_company")
    assert flow.state == "closing" and flow.data["purchase_shares"] == 400
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-20T12:00",
        {"shares": 200, "notice": delivered("2026-03-20T09:00")},
    )
    assert flow.state == "closing" and flow.data["purchase_shares"] == 600
    assert flow.deadline("closing_deadline") == at("2026-04-19T23:59:59.999999")
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-25T12:00",
        {"notice": delivered("2026-03-25T09:00")},
    )
    assert flow.data["purchase_shares"] == 1000 and "owner_choice" not in flow.data
    assert event(d, "rofr_exercised")["scope"] == "all"
    # but not after the company's 30 days, however it is entered
    flow2 = fmp_part_then("sale_to_company")
    r = flow2.refused(
        "exercise_rofr",
        "company",
        "2026-04-03T12:00",
        {"shares": 100, "notice": delivered("2026-04-02T09:00")},
    )
    assert (r.rule, r.code) == ("FMP §6(d)(iii)", "late")
