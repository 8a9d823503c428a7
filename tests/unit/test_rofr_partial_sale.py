"""A third-party sale of fewer than all the shares noticed.

FMP §6(d)(iv): the owner may "sell or otherwise dispose of the Target Shares" within 30 days
after the company's 30 days; the right continues for those not disposed of in time. RD ISO
¶11(e): only a transfer of the Transfer Shares to the Proposed Transferee on the notice's terms.

Dates: the Disposition Notice is delivered in person 2026-03-02, so the company's 30 days end
2026-04-01 (§6(d)(iii)) and the owner's 30 days thereafter end 2026-05-01 (§6(d)(iv)). The
Transfer Notice is delivered 2026-03-02, so the 120 days end 2026-06-30 (RD ISO ¶11(e)).
"""

from __future__ import annotations

from typing import Any

from test_rofr_harness import Flow, at, delivered, event, fmp_notice, iso, rd_notice, types

FMP = "fmp-1998-nso"


def sale(shares: int, sold_on: str, buyer: str = "Eve") -> dict[str, Any]:
    return {
        "buyer": {"name": buyer},
        "shares": shares,
        "price_per_share": "2.50",
        "sold_at": iso(sold_on),
    }


def in_sale_window() -> Flow:
    flow = Flow(FMP)
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.fire("election_deadline")
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")
    return flow


def test_a_sale_of_part_keeps_the_window_open_for_the_rest() -> None:
    flow = in_sale_window()
    d = flow.send(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00")
    )
    assert flow.state == "owner_sale_window" and not d.final
    reported = event(d, "third_party_sale_reported")
    sold = (reported["shares"], reported["shares_sold"], reported["shares_remaining"])
    assert sold == (10, 10, 990)
    assert reported["clause"] == "FMP §6(d)(iv)"
    recorded = event(d, "transfer_recorded")
    assert (recorded["shares"], recorded["buyer_takes"]) == (10, "free_and_clear")
    # The owner keeps the rest of the 30 days for the other 990 shares.
    assert "sale_window_end" not in d.cancel_timers
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")


def test_at_the_windows_end_the_right_applies_again_to_the_unsold_rest() -> None:
    flow = in_sale_window()
    flow.send("report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00"))
    d = flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached" and types(d) == [
        "sale_window_expired",
        "rofr_reattached",
    ]
    reattached = event(d, "rofr_reattached")
    assert (reattached["shares"], reattached["shares_sold"], reattached["target_shares"]) == (
        990,
        10,
        1000,
    )
    assert reattached["clause"] == "FMP §6(d)(iv)"
    assert flow.data["reattached_shares"] == 990
    # A sale of the rest after 2026-05-01 needs a new Disposition Notice.
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-05-03T12:00", sale(990, "2026-05-02T10:00")
    )
    assert r.rule == "FMP §6(d)(iv)" and r.code == "late"


def test_several_sales_add_up_and_selling_the_last_share_ends_the_transfer() -> None:
    flow = in_sale_window()
    flow.send("report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00"))
    d = flow.send(
        "report_third_party_sale", "owner", "2026-04-20T12:00", sale(590, "2026-04-20T10:00", "Fay")
    )
    assert flow.state == "owner_sale_window"
    assert event(d, "third_party_sale_reported")["shares_remaining"] == 400
    d = flow.send(
        "report_third_party_sale", "owner", "2026-05-01T18:00", sale(400, "2026-05-01T16:00", "Gus")
    )
    assert flow.state == "sold_to_third_party" and d.final and flow.timers == {}
    reported = event(d, "third_party_sale_reported")
    assert (reported["shares_sold"], reported["shares_remaining"]) == (1000, 0)
    assert [s["buyer"]["name"] for s in flow.data["sales"]] == ["Eve", "Fay", "Gus"]


def test_sales_can_never_exceed_the_target_shares() -> None:
    flow = in_sale_window()
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(1001, "2026-04-10T10:00")
    )
    assert r.rule == "FMP §6(d)(iv)" and r.code == "refused"
    flow.send("report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00"))
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-11T12:00", sale(991, "2026-04-11T10:00")
    )
    assert r.rule == "FMP §6(d)(iv)" and r.code == "refused"
    assert "exceeds the 990 of the notice's 1000 shares still unsold; 10 were sold" in r.reason


def test_a_part_sale_inside_the_window_reported_late_leaves_the_rest_under_the_right() -> None:
    flow = in_sale_window()
    flow.fire("sale_window_end")
    assert flow.data["reattached_shares"] == 1000
    d = flow.send(
        "report_third_party_sale", "owner", "2026-05-04T09:00", sale(10, "2026-05-01T16:00")
    )
    assert flow.state == "rofr_reattached" and not d.final
    reported = event(d, "third_party_sale_reported")
    assert reported["reported_after_window"] is True and reported["shares_remaining"] == 990
    assert flow.data["reattached_shares"] == 990


def test_a_new_notice_after_a_part_sale_starts_afresh_and_keeps_the_sales_on_record() -> None:
    flow = in_sale_window()
    flow.send("report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00"))
    flow.fire("sale_window_end")
    flow.send(
        "deliver_disposition_notice",
        "owner",
        "2026-06-01T10:00",
        fmp_notice(shares=990, notice=delivered("2026-06-01T10:00")),
    )
    assert flow.state == "election_window" and "sales" not in flow.data
    earlier = flow.data["previous_notices"][0]
    assert earlier["sold_shares"] == 10 and earlier["reattached_shares"] == 990
    assert flow.deadline("election_deadline") == at("2026-07-01T23:59:59.999999")


def test_raydream_refuses_a_transfer_of_part_of_the_transfer_shares() -> None:
    flow = Flow("raydream-1992-iso")
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    flow.fire("election_deadline")
    assert flow.deadline("sale_window_end") == at("2026-06-30T23:59:59.999999")
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-05-02T12:00",
        {
            "buyer": {"name": "Dan Transferee"},
            "shares": 100,
            "price_per_share": "4.00",
            "sold_at": iso("2026-05-01T10:00"),
            "transferee_agreed_in_writing": True,
        },
    )
    assert r.rule == "RD ISO ¶11(e)" and r.code == "refused"
    assert "100 of the 500 shares is not on the terms the Transfer Notice described" in r.reason
    assert "new Transfer Notice" in r.reason


def test_a_price_below_the_notice_is_refused_in_plain_words() -> None:
    flow = in_sale_window()
    r = flow.refused(
        "report_third_party_sale",
        "owner",
        "2026-04-10T12:00",
        {**sale(1000, "2026-04-10T10:00"), "price_per_share": "2.49"},
    )
    assert r.rule == "FMP §6(d)(iv)"
    assert "2.4900 per share is below the notice's 2.5000" in r.reason
    assert "not no more" not in r.reason
