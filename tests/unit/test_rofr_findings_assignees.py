"""Findings 6 and 7 of the ROFR read against its clauses: who acts for the company's side.

FMP §6(d)(iii): the value is agreed, and the joint appraiser selected, by "the Owner and the
Company (or its assignees)". FMP §16(c): the Company may assign "at any time". RD ISO ¶11(h):
"at any time, whether or not the Optionee has attempted a transfer, to one (1) or more persons".
"""

from __future__ import annotations

import pytest
from test_rofr_harness import Flow, delivered, event, fmp_notice, iso, rd_notice, types

FMP, RD = "fmp-1998-nso", "raydream-1992-iso"
PROPERTY = {"form": "property", "description": "200 shares of Widget Corp. common stock"}


def fmp_property() -> Flow:
    flow = Flow(FMP)
    flow.send(
        "deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(consideration=PROPERTY)
    )
    return flow


def value(amount: str, when: str = "2026-03-05T11:00") -> dict[str, str]:
    return {"cash_value": amount, "agreed_at": iso(when)}


# -- 6. the valuation and the closing check the assignee; an agreement needs both sides ---------


@pytest.mark.parametrize(
    ("command", "payload"),
    [
        ("agree_cash_value", value("5000")),
        (
            "appoint_joint_appraiser",
            {"appraiser": "Valuers LLP", "appointed_at": iso("2026-03-05T11:00")},
        ),
    ],
)
def test_an_unrecorded_assignee_cannot_act_on_the_valuation(
    command: str, payload: dict[str, str]
) -> None:
    flow = fmp_property()
    r = flow.refused(command, "assignee", "2026-03-05T12:00", payload, actor="Nobody Capital")
    assert r.rule == "FMP §16(c)" and r.code == "not_authorised"
    assert "Nobody Capital" in r.reason


def test_an_unrecorded_assignee_cannot_record_a_valuation_or_close() -> None:
    flow = fmp_property()
    flow.fire("value_agreement_deadline")
    flow.fire("joint_appraiser_deadline")
    selected = {"appraiser": "B", "selected_at": iso("2026-03-23T11:00")}
    r = flow.refused(
        "select_company_appraiser", "assignee", "2026-03-23T12:00", selected, actor="Nobody"
    )
    assert r.rule == "FMP §16(c)" and r.code == "not_authorised"
    flow.send("select_company_appraiser", "company", "2026-03-23T12:00", selected)
    flow.send("select_owner_appraiser", "owner", "2026-03-23T12:00", {**selected, "appraiser": "A"})
    third = {"appraiser": "C", "designated_at": iso("2026-03-23T11:30")}
    r = flow.refused("record_third_appraiser", "assignee", "2026-03-23T12:00", third, actor="X")
    assert r.code == "not_authorised"
    flow.send("record_third_appraiser", "owner", "2026-03-23T12:00", third)
    valuation = {"cash_value": "4800", "valued_at": iso("2026-03-25T11:00")}
    r = flow.refused("record_valuation", "assignee", "2026-03-25T12:00", valuation, actor="Nobody")
    assert r.code == "not_authorised"
    flow.send("record_valuation", "company", "2026-03-25T12:00", valuation)
    flow.send(
        "exercise_rofr", "company", "2026-03-26T12:00", {"notice": delivered("2026-03-26T09:00")}
    )
    assert flow.state == "closing"
    closing = {"closed_at": iso("2026-04-10T11:00"), "amount_paid": "4800"}
    r = flow.refused("complete_closing", "assignee", "2026-04-10T12:00", closing, actor="Nobody")
    assert r.rule == "FMP §16(c)" and r.code == "not_authorised"
    flow.send("assign_rofr", "company", "2026-04-09T12:00", {"assignee": "Ace Capital"})
    flow.send("complete_closing", "assignee", "2026-04-10T12:00", closing, actor="Ace Capital")
    assert flow.state == "repurchased"


def test_the_owner_alone_only_proposes_a_cash_value() -> None:
    flow = fmp_property()
    d = flow.send("agree_cash_value", "owner", "2026-03-05T12:00", value("9999999"))
    assert types(d) == ["cash_value_proposed"]
    assert event(d, "cash_value_proposed")["awaiting"] == "the Company (or its assignees)"
    assert flow.data["valuation"]["stage"] == "negotiating"
    assert "value_agreement_deadline" in flow.timers
    # the company does not consent to that figure: still no agreement
    d = flow.send(
        "agree_cash_value", "company", "2026-03-06T12:00", value("5000", "2026-03-06T11:00")
    )
    assert types(d) == ["cash_value_proposed"]
    d = flow.send(
        "exercise_rofr", "company", "2026-03-07T12:00", {"notice": delivered("2026-03-07T09:00")}
    )
    assert flow.state == "valuation"  # no cash value is fixed: the closing waits for it
    assert types(d) == ["rofr_exercised", "closing_awaits_valuation"]
    # the owner consents to the company's figure: agreed, when the second side consented
    d = flow.send(
        "agree_cash_value", "owner", "2026-03-08T12:00", value("5000.00", "2026-03-08T11:00")
    )
    agreed = event(d, "cash_value_agreed")
    assert agreed["agreed_at"] == iso("2026-03-08T11:00")
    assert flow.state == "closing" and flow.data["valuation"]["cash_value"] == "5000.00"


def test_a_recorded_assignee_agrees_for_the_company_side() -> None:
    flow = fmp_property()
    flow.send("assign_rofr", "company", "2026-03-03T12:00", {"assignee": "Ace Capital"})
    flow.send(
        "agree_cash_value", "assignee", "2026-03-05T12:00", value("5000"), actor="Ace Capital"
    )
    d = flow.send(
        "agree_cash_value", "owner", "2026-03-05T13:00", value("5000", "2026-03-05T12:30")
    )
    assert event(d, "cash_value_agreed")["agreed_with"]["name"] == "Ace Capital"
    assert flow.data["valuation"]["stage"] == "valued"


def test_one_side_alone_does_not_select_the_joint_appraiser() -> None:
    flow = fmp_property()
    flow.fire("value_agreement_deadline")
    pick = {"appraiser": "Valuers LLP", "appointed_at": iso("2026-03-15T11:00")}
    d = flow.send("appoint_joint_appraiser", "company", "2026-03-15T12:00", pick)
    assert types(d) == ["joint_appraiser_proposed"]
    r = flow.refused(
        "record_valuation",
        "company",
        "2026-03-16T12:00",
        {"cash_value": "1", "valued_at": iso("2026-03-16T11:00")},
    )
    assert r.code == "wrong_state"  # no appraiser yet
    d = flow.send(
        "appoint_joint_appraiser",
        "owner",
        "2026-03-16T12:00",
        {**pick, "appointed_at": iso("2026-03-16T11:00")},
    )
    assert event(d, "joint_appraiser_appointed")["appraiser"] == "Valuers LLP"
    assert "joint_appraiser_deadline" not in flow.timers


# -- 7. the right is assignable at any time, to one or more persons; a waiver binds its giver ----


def test_the_right_can_be_assigned_before_any_notice_and_the_assignee_then_exercises() -> None:
    flow = Flow(RD)
    d = flow.send(
        "assign_rofr", "company", "2026-02-01T12:00", {"assignees": ["Ace Capital", "Bay Fund"]}
    )
    assert flow.state == "new" and not d.final
    assert event(d, "rofr_assigned")["assignees"] == ["Ace Capital", "Bay Fund"]
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    assert flow.state == "election_window"
    flow.send(
        "exercise_rofr",
        "assignee",
        "2026-03-10T12:00",
        {"notice": delivered("2026-03-10T09:00")},
        actor="Bay Fund",
    )
    assert flow.state == "closing"
    assert flow.data["elections"][0]["by"]["name"] == "Bay Fund"


def test_the_right_can_be_assigned_in_closing_and_after_it_applies_again() -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send(
        "exercise_rofr", "company", "2026-03-10T12:00", {"notice": delivered("2026-03-10T09:00")}
    )
    assert flow.state == "closing"
    flow.send("assign_rofr", "company", "2026-03-12T12:00", {"assignee": "Ace Capital"})
    assert flow.state == "closing"
    flow.send(
        "complete_closing",
        "assignee",
        "2026-03-20T12:00",
        {"closed_at": iso("2026-03-20T11:00"), "amount_paid": "2500"},
        actor="Ace Capital",
    )
    assert flow.state == "repurchased"
    r = flow.refused("assign_rofr", "company", "2026-03-21T12:00", {"assignee": "Late Fund"})
    assert r.rule == "FMP §16(c)" and r.code == "wrong_state"  # spent: the purchase closed

    again = Flow(FMP)
    again.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    again.fire("election_deadline")
    again.fire("sale_window_end")
    assert again.state == "rofr_reattached"
    again.send("assign_rofr", "company", "2026-05-05T12:00", {"assignee": "Ace Capital"})
    assert again.state == "rofr_reattached"
    assert [a["name"] for a in again.data["assignees"]] == ["Ace Capital"]


def test_an_assignment_names_each_assignee_once() -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send("assign_rofr", "company", "2026-03-03T12:00", {"assignee": "Ace Capital"})
    r = flow.refused(
        "assign_rofr", "company", "2026-03-04T12:00", {"assignees": ["Bay Fund", "Ace Capital"]}
    )
    assert r.rule == "FMP §16(c)" and "Ace Capital" in r.reason
    r = flow.refused("assign_rofr", "company", "2026-03-04T12:00", {})
    assert r.code == "invalid_payload"


def test_one_assignees_waiver_binds_neither_the_company_nor_another_assignee() -> None:
    flow = Flow(RD)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", rd_notice())
    flow.send(
        "assign_rofr", "company", "2026-03-03T12:00", {"assignees": ["Ace Capital", "Bay Fund"]}
    )
    d = flow.send(
        "waive_rofr",
        "assignee",
        "2026-03-05T12:00",
        {"notice": delivered("2026-03-05T09:00")},
        actor="Ace Capital",
    )
    assert types(d) == ["rofr_waived_by_assignee"]
    assert flow.state == "election_window" and "election_deadline" in flow.timers
    r = flow.refused(
        "exercise_rofr",
        "assignee",
        "2026-03-06T12:00",
        {"notice": delivered("2026-03-06T09:00")},
        actor="Ace Capital",
    )
    assert r.code == "wrong_state" and "Ace Capital waived" in r.reason
    flow.send(
        "exercise_rofr",
        "assignee",
        "2026-03-06T12:00",
        {"notice": delivered("2026-03-06T09:00")},
        actor="Bay Fund",
    )
    assert flow.state == "closing"


def test_the_company_still_exercises_after_its_assignee_waived() -> None:
    flow = Flow(FMP)
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send("assign_rofr", "company", "2026-03-03T12:00", {"assignee": "Ace Capital"})
    flow.send(
        "waive_rofr",
        "assignee",
        "2026-03-05T12:00",
        {"notice": delivered("2026-03-05T09:00")},
        actor="Ace Capital",
    )
    flow.send(
        "exercise_rofr", "company", "2026-03-06T12:00", {"notice": delivered("2026-03-06T09:00")}
    )
    assert flow.state == "closing"
