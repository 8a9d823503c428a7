"""RD ISO/NSO ¶11–¶12: the Ray Dream Right of First Refusal."""

from __future__ import annotations

import pytest
from test_rofr_harness import Flow, at, delivered, event, iso, rd_notice, types

RD = "raydream-1992-iso"


def noticed(terms: str = RD, **overrides: object) -> Flow:
    flow = Flow(terms)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(**overrides))
    return flow


def test_a_transfer_notice_opens_30_days_from_delivery_and_sets_the_120_day_limit() -> None:
    flow = noticed()
    timer = flow.timers["election_deadline"]
    assert timer.deadline.at == at("2026-04-01T23:59:59.999999")
    assert timer.deadline.derivation.startswith(
        "RD ISO ¶11(d): Transfer Notice delivered 2026-03-02 + 30 days → 2026-04-01 23:59 PDT"
    )
    assert (
        flow.data["deadlines"]["sale_window_limit"]["at"]
        == at("2026-06-30T23:59:59.999999").isoformat()
    )


@pytest.mark.parametrize("terms", ["raydream-1992-iso", "raydream-1992-nso"])
def test_the_notice_must_be_signed_by_optionee_and_transferee(terms: str) -> None:
    flow = Flow(terms)
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(signed_by=[{"party": "owner", "name": "Carol Optionee"}]),
    )
    assert r.rule == f"RD {terms[-3:].upper()} ¶11(b)" and "transferee" in r.reason
    assert r.code == "refused"  # a rule of the terms (409), not a malformed command (422)


def test_one_notice_per_transferee_with_name_and_address() -> None:
    flow = Flow(RD)
    two = [{"name": "Dan", "address": "1 Main St"}, {"name": "Erin", "address": "2 Main St"}]
    r = flow.refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(transferees=two)
    )
    assert r.rule == "RD ISO ¶11(b)" and "separate" in r.reason
    r = flow.refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(transferee={"name": "Dan"}),
    )
    assert r.rule == "RD ISO ¶11(b)" and "address" in r.reason
    r = flow.refused(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(bona_fide_evidence="")
    )
    assert r.rule == "RD ISO ¶11(b)"


def test_the_company_may_buy_all_but_not_less_than_all() -> None:
    flow = noticed()
    r = flow.refused(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 200, "notice": delivered("2026-03-10T09:00")},
    )
    assert r.rule == "RD ISO ¶11(d)" and "not less than all" in r.reason
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"notice": delivered("2026-03-10T09:00")},
        actor="CFO",
    )
    assert flow.state == "closing"
    scheduled = event(d, "closing_scheduled")
    assert scheduled["deadline"] is None and scheduled["clause"].startswith("RD ISO ¶11(d)")
    assert "closing_deadline" not in flow.timers
    d = flow.send(
        "complete_closing", "company", "2026-03-20T12:00", {"closed_at": iso("2026-03-20T10:00")}
    )
    assert flow.state == "repurchased"


def test_insufficient_notice_stops_the_clock_until_a_complete_one_arrives() -> None:
    flow = noticed()
    d = flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {
            "ground": "insufficient_information",
            "reason": "no evidence of the price",
            "notice": delivered("2026-03-05T10:00"),
        },
    )
    assert flow.state == "notice_insufficient"
    assert event(d, "transfer_notice_found_insufficient")["clause"] == "RD ISO ¶11(c)"
    assert flow.timers == {}
    r = flow.refused(
        "exercise_rofr", "company", "2026-03-06T12:00", {"notice": delivered("2026-03-06T09:00")}
    )
    assert r.code == "wrong_state"
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-03-09T12:00",
        rd_notice(notice=delivered("2026-03-09T10:00")),
    )
    assert flow.state == "election_window"
    assert flow.deadline("election_deadline") == at("2026-04-08T23:59:59.999999")


def test_a_transfer_that_is_not_bona_fide_is_not_permitted() -> None:
    flow = noticed()
    d = flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {
            "ground": "not_bona_fide",
            "reason": "the buyer is the optionee's nominee",
            "notice": delivered("2026-03-05T10:00"),
        },
    )
    assert flow.state == "transfer_not_permitted" and d.final


def test_no_exercise_lets_the_optionee_sell_to_that_transferee_within_120_days() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    assert flow.state == "owner_sale_window"
    timer = flow.timers["sale_window_end"]
    assert timer.deadline.at == at("2026-06-30T23:59:59.999999")
    assert timer.deadline.clause == "RD ISO ¶11(e)"
    sale = {
        "buyer": {"name": "Dan Transferee"},
        "shares": 500,
        "price_per_share": "4.00",
        "sold_at": iso("2026-05-01T10:00"),
        "transferee_agreed_in_writing": True,
    }
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-05-02T12:00", {**sale, "buyer": {"name": "Zed"}}
    )
    assert r.rule == "RD ISO ¶11(e)" and "Proposed Transferee" in r.reason
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-05-02T12:00", {**sale, "price_per_share": "4.50"}
    )
    assert r.rule == "RD ISO ¶11(e)"
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-05-02T12:00",
        {**sale, "transferee_agreed_in_writing": False},
    )
    assert r.rule == "RD ISO ¶11(f)"
    d = flow.send("report_third_party_sale", "transferee", "2026-05-02T12:00", sale)
    assert flow.state == "transfer_pending_approval"
    assert types(d) == ["third_party_sale_reported"]
    flow.send(
        "demand_assurances", "company", "2026-05-03T12:00", {"assurances": "wire confirmation"}
    )
    r = flow.refused("approve_transfer", "company", "2026-05-04T12:00", {})
    assert r.rule == "RD ISO ¶11(e)" and "assurances" in r.reason
    flow.send("provide_assurances", "owner", "2026-05-05T12:00", {"assurances": "wire ref 123"})
    d = flow.send("approve_transfer", "company", "2026-05-06T12:00", {})
    assert flow.state == "sold_to_third_party" and d.final
    recorded = event(d, "transfer_recorded")
    assert recorded["buyer_takes"] == "subject_to_rofr" and recorded["clause"] == "RD ISO ¶11(f)"


def test_an_unsold_window_reattaches_the_right_after_120_days() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    d = flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached"
    assert event(d, "rofr_reattached")["clause"] == "RD ISO ¶11(e)"


def test_escrowed_shares_are_settled_through_the_escrow_agent() -> None:
    flow = noticed(shares_in_escrow=True)
    d = flow.send(
        "exercise_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    assert event(d, "rofr_exercised")["notice"]["to_party"] == "escrow_agent"
    r = flow.refused(
        "release_escrow",
        "escrow_agent",
        "2026-03-12T12:00",
        {"delivered_at": iso("2026-03-12T10:00")},
    )
    assert r.reason == (
        "the escrow agent has nothing to deliver yet: "
        "the transfer is waiting for the company's purchase to close"
    )
    d = flow.send(
        "complete_closing",
        "company",
        "2026-03-20T12:00",
        {"closed_at": iso("2026-03-20T10:00"), "amount_paid": "2000"},
    )
    assert flow.state == "escrow_settlement"
    timer = flow.timers["escrow_delivery_deadline"]
    assert timer.deadline.at == at("2026-04-19T23:59:59.999999")
    assert (timer.party, timer.deadline.clause) == ("escrow_agent", "RD ISO ¶12(c)")
    r = flow.refused(
        "release_escrow", "company", "2026-03-25T12:00", {"delivered_at": iso("2026-03-25T10:00")}
    )
    assert r.rule == "RD ISO ¶12(c)" and r.code == "not_authorised"
    d = flow.send(
        "release_escrow",
        "escrow_agent",
        "2026-03-25T12:00",
        {"delivered_at": iso("2026-03-25T10:00")},
    )
    assert flow.state == "repurchased"
    assert event(d, "escrowed_shares_delivered")["on_time"] is True


def test_a_gift_is_priced_at_the_fair_market_value_the_company_determines() -> None:
    flow = noticed(transfer_type="gift", consideration={"form": "cash"})
    assert flow.data["price_basis"] == "fair_market_value_determined_by_company"
    r = flow.refused(
        "exercise_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    assert r.rule == "RD ISO ¶11(b)"
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"price_per_share": "3.10", "notice": delivered("2026-03-10T09:00")},
    )
    assert flow.data["fair_market_value_per_share"] == "3.10"
    r = Flow(RD).refused(
        "deliver_transfer_notice",
        "owner",
        "2026-03-02T12:00",
        rd_notice(consideration={"form": "cash"}),
    )
    assert r.rule == "RD ISO ¶11(b)" and "price" in r.reason


def test_a_non_cash_price_is_paid_by_its_discounted_cash_equivalent() -> None:
    flow = noticed(consideration={"form": "property", "description": "a 1993 Porsche 911"})
    assert "value_agreement_deadline" not in flow.timers
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"cash_equivalent": "38000", "notice": delivered("2026-03-10T09:00")},
    )
    assert flow.state == "closing"
    assert flow.data["cash_equivalent"] == {"amount": "38000", "clause": "RD ISO ¶11(d)"}
    r = flow.refused("agree_cash_value", "company", "2026-03-11T12:00", {"cash_value": "1"})
    assert r.code == "not_provided"


def test_no_owners_choice_under_raydream() -> None:
    flow = noticed()
    r = flow.refused(
        "choose_sale_alternative",
        "owner",
        "2026-03-10T12:00",
        {"alternative": "sale_to_company", "notice": delivered("2026-03-10T09:00")},
    )
    assert r.code == "not_provided"


def test_an_assignee_exercises_the_assigned_right() -> None:
    flow = noticed()
    flow.send("assign_rofr", "company", "2026-03-05T12:00", {"assignee": "Investor Co"})
    flow.send(
        "exercise_rofr",
        "assignee",
        "2026-03-10T12:00",
        {"notice": delivered("2026-03-10T09:00")},
        actor="Investor Co",
    )
    assert flow.state == "closing"


SALE_TO_DAN = {
    "buyer": {"name": "Dan Transferee"},
    "shares": 500,
    "price_per_share": "4.00",
    "transferee_agreed_in_writing": True,
}


def test_a_transfer_inside_120_days_reported_later_still_needs_approval() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached"
    # transferred on the 120th day after delivery (2026-03-02), reported two days later
    sale = {**SALE_TO_DAN, "sold_at": iso("2026-06-30T15:00")}
    d = flow.send("report_third_party_sale", "transferee", "2026-07-02T09:00", sale)
    assert flow.state == "transfer_pending_approval" and not d.final
    assert event(d, "third_party_sale_reported")["reported_after_window"] is True
    d = flow.send("approve_transfer", "company", "2026-07-03T09:00", {}, actor="CFO")
    assert flow.state == "sold_to_third_party"
    assert event(d, "transfer_recorded")["buyer_takes"] == "subject_to_rofr"


def test_a_transfer_after_120_days_is_refused_whenever_it_is_reported() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    sale = {**SALE_TO_DAN, "sold_at": iso("2026-07-01T09:00")}
    r = flow.refused("report_third_party_sale", "owner", "2026-07-02T09:00", sale)
    assert r.rule == "RD ISO ¶11(e)" and r.code == "late"
    assert "new Transfer Notice" in r.reason
    assert "Transfer Notice delivered 2026-03-02 + 120 days" in r.reason


def test_the_right_lapsing_after_reattachment_ends_the_workflow() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    d = flow.send(
        "record_lapse_event",
        "company",
        "2026-08-01T09:00",
        {
            "event": "public_market_exists",
            "market": "national_exchange",
            "occurred_at": iso("2026-07-20T06:30"),
        },
    )
    assert flow.state == "lapsed" and d.final


def test_the_company_may_find_a_reported_transfer_not_bona_fide_instead_of_approving() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    flow.send(
        "report_third_party_sale",
        "owner",
        "2026-05-02T12:00",
        {**SALE_TO_DAN, "sold_at": iso("2026-05-01T10:00")},
    )
    assert flow.state == "transfer_pending_approval"
    rejection = {
        "ground": "insufficient_information",
        "reason": "no wire confirmation",
        "notice": delivered("2026-05-03T10:00"),
    }
    r = flow.refused("reject_transfer_notice", "company", "2026-05-03T12:00", rejection)
    assert r.rule == "RD ISO ¶11(e)" and "demand assurances" in r.reason
    d = flow.send(
        "reject_transfer_notice",
        "company",
        "2026-05-03T12:00",
        {**rejection, "ground": "not_bona_fide", "reason": "the price was refunded"},
    )
    assert flow.state == "transfer_not_permitted" and d.final
    assert event(d, "transfer_found_not_bona_fide")["clause"] == "RD ISO ¶11(e)"


def test_notices_owed_to_an_optionee_whose_shares_are_in_escrow_go_to_the_escrow_agent() -> None:
    flow = noticed(shares_in_escrow=True)
    d = flow.send(
        "waive_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    assert event(d, "rofr_waived")["notice"]["to_party"] == "escrow_agent"
    flow = noticed(shares_in_escrow=True)
    d = flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {
            "ground": "insufficient_information",
            "reason": "no evidence of the price",
            "notice": delivered("2026-03-05T10:00"),
        },
    )
    notice = event(d, "transfer_notice_found_insufficient")["notice"]
    assert notice["to_party"] == "escrow_agent"


def test_a_resubmitted_notice_carries_nothing_of_the_first_one() -> None:
    flow = noticed()
    flow.send(
        "reject_transfer_notice",
        "company",
        "2026-03-05T12:00",
        {
            "ground": "insufficient_information",
            "reason": "no evidence of the price",
            "notice": delivered("2026-03-05T10:00"),
        },
    )
    flow.send(
        "deliver_transfer_notice",
        "owner",
        "2026-03-09T12:00",
        rd_notice(shares=300, notice=delivered("2026-03-09T10:00")),
    )
    assert "rejection" not in flow.data and flow.data["shares"] == 300
    earlier = flow.data["previous_notices"]
    assert [(n["outcome"], n["shares"]) for n in earlier] == [("notice_insufficient", 500)]
    assert earlier[0]["rejection"]["reason"] == "no evidence of the price"
    # RD ISO ¶11(d): the whole of the new notice, not the old one, is what the company may buy
    r = flow.refused(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 500, "notice": delivered("2026-03-10T09:00")},
    )
    assert "300" in r.reason
