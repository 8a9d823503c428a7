"""Lapse of the right (FMP §6(d)(vi), RD ISO ¶11(i)); transfers outside it (FMP §6(b), ¶11(g))."""

from __future__ import annotations

from typing import Any

from test_rofr_harness import Flow, delivered, event, fmp_notice, iso, rd_notice

FMP, RD = "fmp-1998-nso", "raydream-1992-iso"


def fmp_open() -> Flow:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    return flow


def lapse(event_: str, occurred: str = "2026-03-10T09:00", **facts: Any) -> dict[str, Any]:
    return {"event": event_, "occurred_at": iso(occurred), **facts}


def test_a_5_million_firm_commitment_offering_ends_the_fmp_right() -> None:
    flow = fmp_open()
    small = lapse(
        "firm_commitment_offering", offering_amount=4_999_999, firm_commitment=True, registered=True
    )
    r = flow.refused("record_lapse_event", "company", "2026-03-11T12:00", small)
    assert r.rule == "FMP §6(d)(vi)(3)" and "$4,999,999 is below the $5,000,000" in r.reason
    best_efforts = lapse(
        "firm_commitment_offering",
        offering_amount=9_000_000,
        firm_commitment=False,
        registered=True,
    )
    assert (
        flow.refused("record_lapse_event", "company", "2026-03-11T12:00", best_efforts).rule
        == "FMP §6(d)(vi)(3)"
    )
    d = flow.send(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse(
            "firm_commitment_offering",
            offering_amount=5_000_000,
            firm_commitment=True,
            registered=True,
        ),
    )
    assert flow.state == "lapsed" and d.final
    lapsed = event(d, "rofr_lapsed")
    assert (lapsed["lapse_event"], lapsed["clause"]) == (
        "firm_commitment_offering",
        "FMP §6(d)(vi)(3)",
    )
    assert "election_deadline" in d.cancel_timers


def test_more_than_500_holders_of_record() -> None:
    flow = fmp_open()
    r = flow.refused(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("holders_of_record_exceeded", holders_of_record=500),
    )
    assert r.rule == "FMP §6(d)(vi)(1)"
    flow.send(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("holders_of_record_exceeded", holders_of_record=501),
    )
    assert flow.state == "lapsed"


def test_only_the_board_determines_a_public_market() -> None:
    flow = fmp_open()
    r = flow.refused(
        "record_lapse_event", "company", "2026-03-11T12:00", lapse("public_market_determined")
    )
    assert r.rule == "FMP §6(d)(vi)(2)" and r.code == "not_authorised"
    flow.send(
        "record_lapse_event",
        "board",
        "2026-03-11T12:00",
        lapse("public_market_determined"),
        reference="Resolution 2026-07",
    )
    assert flow.state == "lapsed"
    assert flow.data["lapse"]["resolution"] == "Resolution 2026-07"


def test_an_exercise_made_before_the_lapse_event_proceeds_to_closing() -> None:
    flow = fmp_open()
    flow.send(
        "exercise_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    after = lapse("holders_of_record_exceeded", "2026-03-25T09:00", holders_of_record=600)
    r = flow.refused("record_lapse_event", "company", "2026-03-26T12:00", after)
    assert r.rule == "FMP §6(d)(vi)(1)" and r.code == "wrong_state"
    before = lapse("holders_of_record_exceeded", "2026-03-15T09:00", holders_of_record=600)
    flow.send("record_lapse_event", "company", "2026-03-26T12:00", before)
    assert flow.state == "lapsed"


def test_a_lapse_event_of_the_other_agreement_is_refused() -> None:
    flow = fmp_open()
    r = flow.refused(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("transfer_of_control", successor_assumes_plan=False),
    )
    assert r.rule == "FMP §6(d)(i)" and "holders_of_record_exceeded" in r.reason


def test_raydream_transfer_of_control_ends_the_right_unless_the_successor_assumes_the_plan() -> (
    None
):
    flow = Flow(RD)
    flow.send(
        "deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice(shares_in_escrow=True)
    )
    r = flow.refused(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("transfer_of_control", successor_assumes_plan=True),
    )
    assert r.rule == "RD ISO ¶11(i)(i)"
    d = flow.send(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("transfer_of_control", successor_assumes_plan=False),
    )
    assert flow.state == "lapsed"
    assert event(d, "rofr_lapsed")["escrow_release_due"] is True


def test_raydream_public_market_exists() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    r = flow.refused(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("public_market_exists", market="pink_sheets"),
    )
    assert r.code == "invalid_payload" and "payload.market" in r.reason
    assert "RD ISO ¶11(i)(ii)" in r.reason
    flow.send(
        "record_lapse_event",
        "company",
        "2026-03-11T12:00",
        lapse("public_market_exists", market="otc_daily_prices"),
    )
    assert flow.state == "lapsed"


GIFT = {
    "holder": "alice",
    "shares": 100,
    "category": "gift_to_spouse_or_issue",
    "transferee": {"name": "Alice's daughter", "relationship": "issue"},
    "without_consideration": True,
}


def test_an_fmp_gift_to_issue_needs_prior_consent_and_the_transferees_acknowledgment() -> None:
    flow = Flow(FMP)
    d = flow.send("propose_exempt_transfer", "owner", "2026-03-02T10:00", GIFT)
    assert flow.state == "exempt_transfer_pending"
    proposed = event(d, "exempt_transfer_proposed")
    assert proposed["needs_company_consent"] and proposed["needs_transferee_acknowledgment"]
    assert proposed["clause"] == "FMP §6(b)(i)(1), §6(b)(ii)"
    done = {"transferred_at": iso("2026-03-10T10:00")}
    r = flow.refused("complete_exempt_transfer", "owner", "2026-03-10T12:00", done)
    assert r.rule == "FMP §6(b)(i)(1), §6(b)(ii)" and "consent" in r.reason
    flow.send(
        "consent_to_transfer",
        "company",
        "2026-03-05T12:00",
        {"consented_at": iso("2026-03-05T10:00")},
    )
    r = flow.refused("complete_exempt_transfer", "owner", "2026-03-10T12:00", done)
    assert "acknowledgment" in r.reason
    r = flow.refused(
        "acknowledge_transfer_terms",
        "owner",
        "2026-03-06T12:00",
        {"acknowledged_at": iso("2026-03-06T10:00")},
    )
    assert r.rule == "FMP §6(b)(ii)" and r.code == "not_authorised"
    flow.send(
        "acknowledge_transfer_terms",
        "transferee",
        "2026-03-06T12:00",
        {"acknowledged_at": iso("2026-03-06T10:00")},
    )
    d = flow.send("complete_exempt_transfer", "owner", "2026-03-10T12:00", done)
    assert flow.state == "exempt_transfer_completed" and d.final
    assert event(d, "exempt_transfer_completed")["transferee_is_owner"] is True


def test_consent_given_after_the_transfer_is_not_prior_consent() -> None:
    flow = Flow(FMP)
    flow.send("propose_exempt_transfer", "owner", "2026-03-02T10:00", GIFT)
    flow.send(
        "consent_to_transfer",
        "company",
        "2026-03-12T12:00",
        {"consented_at": iso("2026-03-12T10:00")},
    )
    flow.send(
        "acknowledge_transfer_terms",
        "transferee",
        "2026-03-06T12:00",
        {"acknowledged_at": iso("2026-03-06T10:00")},
    )
    r = flow.refused(
        "complete_exempt_transfer",
        "owner",
        "2026-03-12T13:00",
        {"transferred_at": iso("2026-03-10T10:00")},
    )
    # Judged at 2026-03-10, when the transfer took effect: no consent had been given by then.
    assert "must be obtained before the transfer" in r.reason
    assert r.code == "condition_unmet"


def test_the_company_may_refuse_consent() -> None:
    flow = Flow(FMP)
    flow.send("propose_exempt_transfer", "owner", "2026-03-02T10:00", GIFT)
    d = flow.send(
        "refuse_consent", "board", "2026-03-05T12:00", {"reason": "S corporation eligibility"}
    )
    assert flow.state == "exempt_transfer_refused" and d.final


def test_a_gift_for_consideration_or_to_a_friend_is_not_exempt() -> None:
    r = Flow(FMP).refused(
        "propose_exempt_transfer",
        "owner",
        "2026-03-02T10:00",
        {**GIFT, "without_consideration": False},
    )
    assert r.rule == "FMP §6(b)(i)(1), §6(b)(ii)"
    friend = {**GIFT, "transferee": {"name": "Pal", "relationship": "friend"}}
    assert (
        Flow(FMP).refused("propose_exempt_transfer", "owner", "2026-03-02T10:00", friend).code
        == "invalid_payload"
    )
    r = Flow(FMP).refused(
        "propose_exempt_transfer",
        "owner",
        "2026-03-02T10:00",
        {**GIFT, "category": "ownership_change"},
    )
    assert r.rule == "FMP §6(d)(i)" and r.code == "not_exempt"


def test_a_pledge_to_the_company_needs_consent_but_no_acknowledgment() -> None:
    other_debt = {
        "holder": "alice",
        "shares": 100,
        "category": "pledge_to_company",
        "transferee": {"name": "Future Media Productions, Inc."},
    }
    r = Flow(FMP).refused("propose_exempt_transfer", "owner", "2026-03-02T10:00", other_debt)
    assert r.rule == "FMP §6(b)(i)(3), §6(b)(ii)" and "purchase-money" in r.reason
    flow = Flow(FMP)
    flow.send(
        "propose_exempt_transfer",
        "owner",
        "2026-03-02T10:00",
        {
            "holder": "alice",
            "shares": 100,
            "category": "pledge_to_company",
            "transferee": {"name": "Future Media Productions, Inc."},
            "purchase_money_debt": True,
        },
    )
    flow.send(
        "consent_to_transfer",
        "company",
        "2026-03-03T12:00",
        {"consented_at": iso("2026-03-03T10:00")},
    )
    flow.send(
        "complete_exempt_transfer",
        "company",
        "2026-03-04T12:00",
        {"transferred_at": iso("2026-03-04T10:00")},
    )
    assert flow.state == "exempt_transfer_completed"


def test_raydream_ownership_change_transfers_are_outside_the_right() -> None:
    flow = Flow(RD)
    flow.send(
        "propose_exempt_transfer",
        "company",
        "2026-03-02T10:00",
        {
            "holder": "carol",
            "shares": 500,
            "category": "ownership_change",
            "transferee": {"name": "Acquirer Inc."},
            "ownership_change": "merger",
        },
    )
    assert flow.data["ownership_change"] == "merger"
    r = flow.refused(
        "consent_to_transfer",
        "company",
        "2026-03-03T12:00",
        {"consented_at": iso("2026-03-03T10:00")},
    )
    assert r.code == "not_provided"
    d = flow.send(
        "complete_exempt_transfer",
        "company",
        "2026-03-04T12:00",
        {"transferred_at": iso("2026-03-04T10:00"), "participating_company_stock": True},
    )
    done = event(d, "exempt_transfer_completed")
    assert done["clause"] == "RD ISO ¶11(g)" and done["consideration_stays_subject"] is True
    r = Flow(RD).refused("propose_exempt_transfer", "owner", "2026-03-02T10:00", GIFT)
    assert r.rule == "RD ISO ¶11(a)" and r.code == "not_exempt"


def test_an_ownership_change_must_be_one_the_agreement_defines() -> None:
    r = Flow(RD).refused(
        "propose_exempt_transfer",
        "company",
        "2026-03-02T10:00",
        {
            "holder": "carol",
            "shares": 500,
            "category": "ownership_change",
            "transferee": {"name": "Friendly Fund"},
            "ownership_change": "private_sale",
        },
    )
    assert r.code == "invalid_payload" and "payload.ownership_change" in r.reason
    assert "'merger'" in r.reason and "RD ISO ¶8" in r.reason
