"""FMP §6(d)(iii): no joint appraiser within 20 days, "each shall select an appraiser of
recognized standing and the two appraisers shall designate a third appraiser of recognized
standing, whose appraisal shall be determinative of such value".

Each side selects its own appraiser with its own command and never the other's; the third is
recorded once both are selected; only the third's appraisal fixes the value.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_rofr_harness import CATALOG, Flow, delivered, event, fmp_notice, iso, types

from workflows.kernel import refusal_status
from workflows.kit.commands import Spec
from workflows.rofr import appraisers
from workflows.rofr import commands as c
from workflows.rofr.decide import COMMANDS
from workflows.terms import parse_terms

FMP = "fmp-1998-nso"
PROPERTY = {"form": "property", "description": "200 shares of Widget Corp. common stock"}
CLAUSE = "FMP §6(d)(iii)"


def selected(name: str, when: str = "2026-03-24T11:00") -> dict[str, str]:
    return {"appraiser": name, "selected_at": iso(when)}


def third(name: str = "Carol Appraiser", when: str = "2026-03-26T11:00") -> dict[str, str]:
    return {"appraiser": name, "designated_at": iso(when)}


def valuation(amount: str = "4800", **more: str) -> dict[str, str]:
    return {"cash_value": amount, "valued_at": iso("2026-04-10T11:00"), **more}


def past_20_days(flow: Flow | None = None) -> Flow:
    """A property price, no value and no joint appraiser agreed, then the company exercised."""
    flow = flow or Flow(FMP)
    flow.send(
        "deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(consideration=PROPERTY)
    )
    flow.fire("value_agreement_deadline")
    flow.fire("joint_appraiser_deadline")
    flow.send(
        "exercise_rofr", "company", "2026-03-23T12:00", {"notice": delivered("2026-03-23T09:00")}
    )
    assert flow.state == "valuation"
    return flow


def both_selected() -> Flow:
    flow = past_20_days()
    flow.send("select_owner_appraiser", "owner", "2026-03-24T12:00", selected("Olga Appraiser"))
    flow.send(
        "select_company_appraiser",
        "company",
        "2026-03-25T12:00",
        selected("Cid Appraiser", "2026-03-25T11:00"),
    )
    return flow


@pytest.mark.parametrize(
    ("command", "party", "name"),
    [
        ("select_owner_appraiser", "company", "Cid Appraiser"),
        ("select_owner_appraiser", "board", "Cid Appraiser"),
        ("select_company_appraiser", "owner", "Olga Appraiser"),
    ],
)
def test_a_side_cannot_select_the_other_sides_appraiser(
    command: str, party: str, name: str
) -> None:
    flow = past_20_days()
    r = flow.refused(command, party, "2026-03-24T12:00", selected(name))
    assert r.rule == CLAUSE and refusal_status(r.code) == 409
    assert "valuation" in flow.data and not flow.data["valuation"].get("selections")


def test_the_rule_refuses_the_other_sides_selection_even_where_the_terms_list_the_party() -> None:
    raw = CATALOG.raw(FMP)
    for name in ("select_owner_appraiser", "select_company_appraiser"):
        raw["rofr"]["parties"][name]["value"] = ["owner", "company", "board", "assignee"]
    flow = Flow(FMP)
    flow.terms = parse_terms(raw)
    past_20_days(flow)
    r = flow.refused("select_owner_appraiser", "company", "2026-03-24T12:00", selected("Cid"))
    assert r.rule == CLAUSE and r.code == "not_authorised"
    assert "may not select the owner's" in r.reason
    assert "select_company_appraiser" in r.reason
    r = flow.refused("select_company_appraiser", "owner", "2026-03-24T12:00", selected("Olga"))
    assert "may not select the Company (or its assignees)'s" in r.reason


def test_each_side_selects_its_own_and_either_records_the_third_the_two_designated() -> None:
    flow = past_20_days()
    d = flow.send("select_owner_appraiser", "owner", "2026-03-24T12:00", selected("Olga Appraiser"))
    chosen = event(d, "appraiser_selected")
    assert (chosen["side"], chosen["appraiser"]) == ("owner", "Olga Appraiser")
    assert chosen["awaiting"] == "the Company (or its assignees)'s appraiser"
    # one appraiser cannot designate a third, nor can a valuation be recorded yet
    r = flow.refused(
        "record_third_appraiser", "company", "2026-03-24T12:00", third(when="2026-03-24T11:30")
    )
    assert r.rule == CLAUSE and r.code == "too_early"
    assert "the Company (or its assignees)'s" in r.reason
    r = flow.refused("record_valuation", "company", "2026-03-24T12:00", valuation())
    assert "third appraiser is not yet designated" in r.reason
    # a side selects once
    r = flow.refused("select_owner_appraiser", "owner", "2026-03-24T13:00", selected("Other"))
    assert r.code == "wrong_state" and "Olga Appraiser" in r.reason
    d = flow.send(
        "select_company_appraiser", "board", "2026-03-25T12:00", selected("Cid Appraiser")
    )
    assert event(d, "appraiser_selected")["awaiting"] == (
        "the two appraisers' designation of a third"
    )
    d = flow.send("record_third_appraiser", "owner", "2026-03-26T12:00", third())
    designated = event(d, "third_appraiser_designated")
    assert designated["designated_by"] == ["Olga Appraiser", "Cid Appraiser"]
    assert designated["binding"] is True and designated["cost_shared_equally"] is True
    assert designated["clause"] == CLAUSE
    assert flow.data["valuation"]["appraisers"] == {
        "owner_appraiser": "Olga Appraiser",
        "company_appraiser": "Cid Appraiser",
        "third_appraiser": "Carol Appraiser",
    }
    r = flow.refused("record_third_appraiser", "company", "2026-03-26T13:00", third("Dave"))
    assert r.code == "wrong_state"
    r = flow.refused("select_company_appraiser", "company", "2026-03-26T13:00", selected("X"))
    assert r.code == "wrong_state"


@pytest.mark.parametrize("party", ["owner", "company"])
def test_either_side_may_record_the_designation(party: str) -> None:
    flow = both_selected()
    d = flow.send("record_third_appraiser", party, "2026-03-26T12:00", third())
    assert event(d, "third_appraiser_designated")["recorded_by"]["party"] == party


def test_only_the_third_appraisers_valuation_binds() -> None:
    flow = both_selected()
    flow.send("record_third_appraiser", "company", "2026-03-26T12:00", third())
    r = flow.refused(
        "record_valuation", "owner", "2026-04-10T12:00", valuation(appraiser="Olga Appraiser")
    )
    assert r.rule == CLAUSE and refusal_status(r.code) == 409
    assert "only the appraisal of Carol Appraiser" in r.reason
    d = flow.send(
        "record_valuation", "owner", "2026-04-10T12:00", valuation(appraiser="carol  appraiser")
    )
    assert event(d, "cash_value_determined")["appraised_by"] == "Carol Appraiser"
    assert types(d) == ["cash_value_determined", "closing_scheduled"]
    assert flow.state == "closing"


def test_a_recorded_assignee_selects_for_the_company_side() -> None:
    flow = past_20_days()
    flow.send("assign_rofr", "company", "2026-03-23T13:00", {"assignee": "Ace Capital"})
    d = flow.send(
        "select_company_appraiser",
        "assignee",
        "2026-03-24T12:00",
        selected("Cid Appraiser"),
        actor="Ace Capital",
    )
    assert event(d, "appraiser_selected")["by"]["name"] == "Ace Capital"
    r = flow.refused(
        "select_owner_appraiser", "assignee", "2026-03-24T12:00", selected("X"), actor="Ace Capital"
    )
    assert r.rule == CLAUSE and r.code == "not_authorised"


def test_no_selection_once_a_joint_appraiser_was_agreed() -> None:
    flow = Flow(FMP)
    flow.send(
        "deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice(consideration=PROPERTY)
    )
    joint = {"appraiser": "Valuers LLP", "appointed_at": iso("2026-03-18T11:00")}
    flow.send("appoint_joint_appraiser", "owner", "2026-03-18T12:00", joint)
    flow.send("appoint_joint_appraiser", "company", "2026-03-18T12:00", joint)
    r = flow.refused("select_owner_appraiser", "owner", "2026-03-24T12:00", selected("Olga"))
    assert r.code == "wrong_state" and "Valuers LLP" in r.reason
    late_march = {"cash_value": "5000", "valued_at": iso("2026-03-25T11:00")}
    r = flow.refused(
        "record_valuation", "owner", "2026-03-25T12:00", {**late_march, "appraiser": "Olga"}
    )
    assert "only the appraisal of Valuers LLP" in r.reason


def test_a_selection_effective_before_the_20_days_ended_is_refused_even_entered_after() -> None:
    flow = past_20_days()
    r = flow.refused(
        "select_owner_appraiser", "owner", "2026-03-24T12:00", selected("O", "2026-03-20T11:00")
    )
    assert r.rule == CLAUSE and r.code == "too_early"


def test_a_designation_before_both_selections_took_effect_is_refused_in_its_place() -> None:
    """Judged by effective time: the third designated (effective) before the company's
    appraiser was selected was designated by fewer than two appraisers."""
    flow = both_selected()  # the owner's appraiser selected 03-24 11:00, the company's 03-25
    r = flow.refused(
        "record_third_appraiser", "owner", "2026-03-26T12:00", third(when="2026-03-24T15:00")
    )
    assert r.code == "too_early" and "the Company (or its assignees)'s" in r.reason


# -- the retired appoint_appraisers ----------------------------------------------------------

THREE = {"owner_appraiser": "A", "company_appraiser": "B", "third_appraiser": "C"}


def old_terms() -> dict[str, Any]:
    """The FMP terms as a workflow pinned them before each side selected its own appraiser."""
    raw = CATALOG.raw(FMP)
    parties = raw["rofr"]["parties"]
    for name in ("select_owner_appraiser", "select_company_appraiser", "record_third_appraiser"):
        del parties[name]
    parties["appoint_appraisers"] = {
        "value": ["company", "board", "assignee", "owner"],
        "clause": CLAUSE,
    }
    return raw


def test_appoint_appraisers_is_refused_when_entered() -> None:
    flow = Flow(FMP)
    flow.terms = parse_terms(old_terms())
    past_20_days(flow)
    payload = {**THREE, "appointed_at": iso("2026-03-24T11:00")}
    r = flow.refused("appoint_appraisers", "company", "2026-03-24T12:00", payload)
    assert r.rule == CLAUSE and refusal_status(r.code) == 409
    assert "select_owner_appraiser" in r.reason and "record_third_appraiser" in r.reason
    # the shipped terms no longer provide it at all
    r = past_20_days().refused("appoint_appraisers", "company", "2026-03-24T12:00", payload)
    assert r.code == "not_provided"


def test_terms_pinned_before_give_each_side_its_own_selection() -> None:
    flow = Flow(FMP)
    flow.terms = parse_terms(old_terms())
    past_20_days(flow)
    r = flow.refused("select_owner_appraiser", "company", "2026-03-24T12:00", selected("Cid"))
    assert r.rule == CLAUSE and r.code == "not_authorised"
    flow.send("select_owner_appraiser", "owner", "2026-03-24T12:00", selected("Olga"))
    flow.send("select_company_appraiser", "board", "2026-03-24T12:00", selected("Cid"))
    flow.send("record_third_appraiser", "company", "2026-03-26T12:00", third())
    assert flow.data["valuation"]["stage"] == "appraisal"


def test_an_appointment_recorded_before_the_retirement_stands_on_replay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flow = Flow(FMP)
    flow.terms = parse_terms(old_terms())
    past_20_days(flow)
    # Entered while the command was still accepted (the code before its retirement).
    monkeypatch.setitem(
        COMMANDS.specs,  # type: ignore[arg-type]
        "appoint_appraisers",
        Spec(c.AppointAppraisers, appraisers.appoint_appraisers),
    )
    payload = {**THREE, "appointed_at": iso("2026-03-24T11:00")}
    flow.send("appoint_appraisers", "company", "2026-03-24T12:00", payload)
    monkeypatch.undo()
    # An assignment effective before it, entered now, replays every act from the start.
    d = flow.send(
        "assign_rofr",
        "company",
        "2026-03-27T12:00",
        {"assignee": "Ace Capital", "assigned_at": iso("2026-03-23T15:00")},
    )
    assert "fact_voided" not in types(d)
    assert flow.data["valuation"]["appraisers"] == THREE
    assert not flow.data["timeline"]["reconciliation"]
    d = flow.send("record_valuation", "owner", "2026-04-10T12:00", valuation())
    assert event(d, "cash_value_determined")["appraised_by"] == "C"
    assert flow.state == "closing"
