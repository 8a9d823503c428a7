"""FMP §6(d)(v)(A): after a part exercise, the owner's (A) is a sale of *all* the Target Shares.

Dates: the Disposition Notice, dated and delivered in person 2026-03-02, is received that day.
The company's 30 days (FMP §6(d)(iii)) and the owner's 30 days to choose from the notice's date
(FMP §6(d)(v)) both end 2026-04-01; under (A) the owner then has the 30 days thereafter
(FMP §6(d)(iv)), to 2026-05-01. The company elects 400 of the 1000 shares on 2026-03-10.
"""

from __future__ import annotations

from typing import Any

from test_rofr_harness import Flow, at, delivered, event, fmp_notice, iso, types

FMP = "fmp-1998-nso"


def sale(shares: int, sold_on: str) -> dict[str, Any]:
    return {
        "buyer": {"name": "Eve"},
        "shares": shares,
        "price_per_share": "2.50",
        "sold_at": iso(sold_on),
    }


def partly_exercised(notice: dict[str, Any] | None = None) -> Flow:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(**(notice or {})))
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-10T12:00",
        {"shares": 400, "notice": delivered("2026-03-10T09:00")},
    )
    return flow


def chose_a() -> Flow:
    flow = partly_exercised()
    flow.send(
        "choose_sale_alternative",
        "owner",
        "2026-03-15T12:00",
        {"alternative": "third_party_sale", "notice": delivered("2026-03-15T10:00")},
    )
    assert flow.state == "owner_sale_window"
    return flow


def test_under_a_selling_only_the_shares_the_company_left_is_refused() -> None:
    flow = chose_a()
    flow.fire("election_deadline")
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(600, "2026-04-10T10:00")
    )
    assert (r.rule, r.code) == ("FMP §6(d)(v)(A)", "refused")  # a rule: 409
    assert r.reason == (
        "the owner chose (A): sale of all the 1000 Target Shares to a third party, as if the "
        "company had not exercised; selling only the 600 the company did not elect would keep "
        "its 400 with the owner, which is neither (A) nor (B): report the sale of all 1000"
    )
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(10, "2026-04-10T10:00")
    )
    assert r.rule == "FMP §6(d)(v)(A)" and "a sale of part is neither alternative" in r.reason
    d = flow.send(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(1000, "2026-04-10T10:00")
    )
    assert flow.state == "sold_to_third_party" and d.final
    assert event(d, "transfer_recorded")["shares"] == 1000


def test_under_a_deemed_by_silence_a_part_sale_is_refused_and_all_shares_reattach() -> None:
    flow = partly_exercised()
    flow.fire("owner_choice_deadline")  # 2026-04-01: silence is (A); the election ends too
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(600, "2026-04-10T10:00")
    )
    assert (r.rule, r.code) == ("FMP §6(d)(v)(A)", "refused")  # a rule: 409
    assert r.reason.startswith("the owner is deemed, by not answering in time, to have chosen (A)")
    d = flow.fire("sale_window_end")  # 2026-05-01, nothing sold: the right applies to all again
    assert flow.state == "rofr_reattached"
    assert event(d, "rofr_reattached")["shares"] == 1000
    assert flow.data["reattached_shares"] == 1000


def test_a_part_sale_reported_after_the_window_is_refused_under_a_too() -> None:
    # Dated 2026-02-01: the owner's 30 days ended 2026-03-03, before the part exercise, so (A)
    # is deemed at once; the sale window still runs to 2026-05-01.
    flow = partly_exercised({"notice": {**delivered("2026-03-02T10:00"), "dated": "2026-02-01"}})
    assert flow.data["owner_choice"]["deemed"] is True
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    r = flow.refused(
        "report_third_party_sale", "owner", "2026-05-04T12:00", sale(600, "2026-04-30T10:00")
    )
    assert r.rule == "FMP §6(d)(v)(A)"
    flow.send(
        "report_third_party_sale", "owner", "2026-05-04T12:00", sale(1000, "2026-04-30T10:00")
    )
    assert flow.state == "sold_to_third_party"


def test_after_a_written_a_the_company_can_no_longer_exercise_or_waive() -> None:
    flow = chose_a()
    reason = (
        "the owner chose (A) on 2026-03-15 10:00 PDT: sale of all the 1000 Target Shares to the "
        "third party; the right can no longer be exercised on this notice"
    )
    # Still inside the company's 30 days (to 2026-04-01), for the rest or for all.
    for payload in (
        {"shares": 600, "notice": delivered("2026-03-20T09:00")},
        {"notice": delivered("2026-03-20T09:00")},
    ):
        r = flow.refused("exercise_rofr", "company", "2026-03-20T12:00", payload)
        assert (r.rule, r.code, r.reason) == ("FMP §6(d)(v)", "wrong_state", reason)
    r = flow.refused(
        "waive_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    assert r.rule == "FMP §6(d)(v)" and r.reason.endswith("can no longer be waived on this notice")
    # Nor once the windows have run: an Exercise Notice given 2026-03-31 and entered late.
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    r = flow.refused(
        "exercise_rofr", "company", "2026-05-04T12:00", {"notice": delivered("2026-03-31T09:00")}
    )
    assert (r.rule, r.reason) == ("FMP §6(d)(v)", reason)


def test_a_full_exercise_given_before_the_owners_a_but_entered_after_still_counts() -> None:
    flow = chose_a()  # the owner's (A) took effect 2026-03-15 10:00
    d = flow.send(
        "exercise_rofr", "company", "2026-03-16T12:00", {"notice": delivered("2026-03-14T09:00")}
    )
    assert flow.state == "closing" and flow.data["purchase_shares"] == 1000
    assert "owner_choice" not in flow.data
    assert "sale_window_end" in d.cancel_timers


def test_a_part_exercise_given_before_the_owners_a_leaves_the_a_standing() -> None:
    flow = chose_a()
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-16T12:00",
        {"shares": 100, "notice": delivered("2026-03-14T09:00")},
    )
    # In its place (before the (A) of 2026-03-15) the exercise reopened the owner's choice,
    # which the (A) then made.
    assert flow.state == "owner_sale_window" and types(d)[0] == "rofr_exercised"
    assert flow.data["elected_shares"] == 500
    assert flow.data["owner_choice"]["alternative"] == "third_party_sale"
    assert flow.deadline("sale_window_end") == at("2026-05-01T23:59:59.999999")
    assert "owner_choice_deadline" not in flow.timers
    flow.fire("election_deadline")
    flow.send(
        "report_third_party_sale", "owner", "2026-04-10T12:00", sale(1000, "2026-04-10T10:00")
    )
    assert flow.state == "sold_to_third_party"
