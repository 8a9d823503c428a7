"""FMP §6(d)(iii): a price payable in property, valued in cash: the 10- and 20-day marks."""

from __future__ import annotations

from test_rofr_harness import FMP_COMPLIANCE, Flow, at, delivered, event, fmp_notice, iso, types

FMP = "fmp-1998-nso"
PROPERTY = {"form": "property", "description": "200 shares of Widget Corp. common stock"}


def noticed(received: str = "2026-03-02T10:00") -> Flow:
    flow = Flow(FMP)
    flow.send(
        "deliver_transfer_notice",
        "owner",
        received,
        fmp_notice(consideration=PROPERTY, notice=delivered(received)),
    )
    return flow


def test_a_property_price_sets_the_10_and_20_day_marks_from_receipt() -> None:
    flow = noticed()
    assert flow.deadline("value_agreement_deadline") == at("2026-03-12T23:59:59.999999")
    assert flow.deadline("joint_appraiser_deadline") == at("2026-03-22T23:59:59.999999")
    assert flow.timers["joint_appraiser_deadline"].deadline.clause == "FMP §6(d)(iii)"


def test_an_agreed_value_then_exercise_closes_on_the_later_of_30_business_days_and_15_days() -> (
    None
):
    flow = noticed("2026-06-01T10:00")
    d = flow.send(
        "agree_cash_value",
        "owner",
        "2026-06-08T12:00",
        {"cash_value": "5000", "agreed_at": iso("2026-06-08T10:00")},
    )
    assert types(d) == ["cash_value_proposed"]  # FMP §6(d)(iii): the Owner *and* the Company
    d = flow.send(
        "agree_cash_value",
        "company",
        "2026-06-08T12:00",
        {"cash_value": "5000", "agreed_at": iso("2026-06-08T11:00")},
    )
    assert event(d, "cash_value_agreed")["cash_value"] == "5000"
    assert "value_agreement_deadline" not in flow.timers
    d = flow.send(
        "exercise_rofr", "company", "2026-06-15T12:00", {"notice": delivered("2026-06-15T09:00")}
    )
    assert flow.state == "closing"
    closing = flow.timers["closing_deadline"].deadline
    # 30th business day after 2026-06-15, skipping Juneteenth and 2026-07-03 (observed)
    assert closing.at == at("2026-07-29T23:59:59.999999")
    assert [p.at for p in closing.parts] == [
        at("2026-07-29T23:59:59.999999"),
        at("2026-06-23T23:59:59.999999"),
    ]
    assert "the later of" in closing.derivation


def test_no_agreement_then_no_joint_appraiser_leads_to_three_appraisers() -> None:
    flow = noticed()
    d = flow.fire("value_agreement_deadline")
    assert types(d) == ["cash_value_agreement_deadline_passed"]
    r = flow.refused(
        "agree_cash_value",
        "company",
        "2026-03-13T12:00",
        {"cash_value": "5000", "agreed_at": iso("2026-03-13T11:00")},
    )
    assert r.rule == "FMP §6(d)(iii)" and r.code == "late"
    r = flow.refused(
        "select_company_appraiser",
        "company",
        "2026-03-15T12:00",
        {"appraiser": "B", "selected_at": iso("2026-03-15T11:00")},
    )
    assert r.rule == "FMP §6(d)(iii)" and r.code == "too_early"
    d = flow.fire("joint_appraiser_deadline")
    assert types(d) == ["joint_appraiser_deadline_passed"]
    d = flow.send(
        "exercise_rofr", "company", "2026-03-20T12:00", {"notice": delivered("2026-03-20T09:00")}
    )
    assert flow.state == "valuation"
    assert types(d) == ["rofr_exercised", "closing_awaits_valuation"]
    r = flow.refused(
        "complete_closing", "company", "2026-03-25T12:00", {"closed_at": iso("2026-03-25T11:00")}
    )
    assert r.code == "wrong_state"
    selected = {"selected_at": iso("2026-03-24T11:00")}
    flow.send("select_owner_appraiser", "owner", "2026-03-24T12:00", {"appraiser": "A", **selected})
    flow.send(
        "select_company_appraiser", "company", "2026-03-24T12:00", {"appraiser": "B", **selected}
    )
    flow.send(
        "record_third_appraiser",
        "owner",
        "2026-03-25T12:00",
        {"appraiser": "C", "designated_at": iso("2026-03-25T11:00")},
    )
    d = flow.send(
        "record_valuation",
        "company",
        "2026-04-10T12:00",
        {"cash_value": "4800", "valued_at": iso("2026-04-10T11:00")},
    )
    assert flow.state == "closing"
    assert types(d) == ["cash_value_determined", "closing_scheduled"]
    assert event(d, "cash_value_determined")["appraised_by"] == "C"
    # later of the 30th business day after 2026-03-20 (2026-05-01) and 2026-04-10 + 15 days
    assert flow.deadline("closing_deadline") == at("2026-05-01T23:59:59.999999")


def test_a_joint_appraiser_chosen_in_time() -> None:
    flow = noticed()
    flow.fire("value_agreement_deadline")
    flow.send(
        "appoint_joint_appraiser",
        "owner",
        "2026-03-18T12:00",
        {"appraiser": "Valuers LLP", "appointed_at": iso("2026-03-18T11:00")},
    )
    assert "joint_appraiser_deadline" in flow.timers  # the owner alone only proposed
    flow.send(
        "appoint_joint_appraiser",
        "company",
        "2026-03-18T12:00",
        {"appraiser": "Valuers LLP", "appointed_at": iso("2026-03-18T11:30")},
    )
    assert "joint_appraiser_deadline" not in flow.timers
    flow.send(
        "record_valuation",
        "company",
        "2026-03-25T12:00",
        {"cash_value": "5100", "valued_at": iso("2026-03-25T11:00")},
    )
    assert flow.state == "election_window"  # valued before any exercise
    flow.send(
        "exercise_rofr", "company", "2026-03-30T12:00", {"notice": delivered("2026-03-30T09:00")}
    )
    assert flow.state == "closing"


def test_the_company_may_pay_in_the_offered_property_instead() -> None:
    flow = noticed()
    flow.send(
        "exercise_rofr",
        "company",
        "2026-03-05T12:00",
        {"payment": "as_offered", "notice": delivered("2026-03-05T09:00")},
    )
    assert flow.state == "closing"
    assert flow.deadline("closing_deadline") == at("2026-04-04T23:59:59.999999")


def test_a_property_sale_to_a_third_party_must_confirm_it_conforms() -> None:
    flow = noticed()
    flow.fire("election_deadline")
    assert "value_agreement_deadline" not in flow.timers
    sale = {
        "buyer": {"name": "Eve"},
        "shares": 1000,
        "sold_at": iso("2026-04-10T10:00"),
        "compliance": FMP_COMPLIANCE,
    }
    r = flow.refused("report_third_party_sale", "owner", "2026-04-10T12:00", sale)
    assert r.rule == "FMP §6(d)(iv)"
    flow.send(
        "report_third_party_sale", "owner", "2026-04-10T12:00", {**sale, "conforms_to_notice": True}
    )
    assert flow.state == "sold_to_third_party"
