"""The ROFR kind against the kernel contract: registry, commands, machine."""

from __future__ import annotations

import pytest
from test_rofr_harness import Flow, at, fmp_notice, rd_notice

from services.terms_catalog import TermsCatalog
from workflows import registry, rofr
from workflows.kernel import Actor, Command, Party, Refused
from workflows.rofr.decide import COMMANDS
from workflows.rofr.machine import STATES, TRANSITIONS, RofrMachine


def test_the_registry_knows_rofr_and_names_the_known_kinds_otherwise() -> None:
    assert registry.kind("rofr") is rofr
    assert rofr.KIND == "rofr"
    with pytest.raises(KeyError, match=r"known: .*rofr"):
        registry.kind("repurchase")


def test_every_command_the_terms_can_name_has_a_rule() -> None:
    for terms_id in TermsCatalog().ids():
        rofr = TermsCatalog().get(terms_id).rofr
        assert rofr is not None and set(rofr.parties) <= set(COMMANDS)


def test_final_states_are_the_ends_of_a_transfer() -> None:
    finals = {s for s, state in STATES.items() if state.final}
    assert finals == {
        "repurchased",
        "sold_to_third_party",
        "lapsed",
        "transfer_not_permitted",
        "exempt_transfer_completed",
        "exempt_transfer_refused",
    }
    assert all(not STATES[src].final for src, _ in TRANSITIONS)
    # The right applying again is not an end: a sale made in time may still be reported.
    assert {t for (src, t) in TRANSITIONS if src == "rofr_reattached"} == {
        "sell",
        "sell_part",
        "sell_pending_approval",
        "exercise_all",
        "exercise_all_to_value",
        "exercise_part",
        "exercise_part_choice_passed",
        "exercise_part_after_choice",
        "submit_notice",
        "lapse",
    }
    assert f"{RofrMachine:md}".count("|") > 100  # the diagram the dashboard can show


def test_a_workflow_starts_only_with_a_notice_or_an_exempt_transfer() -> None:
    terms = TermsCatalog().get("fmp-1998-nso")
    command = Command("exercise_rofr", Actor(Party.COMPANY), {})
    with pytest.raises(Refused) as e:
        rofr.decide(None, {}, command, at("2026-03-02T10:00"), terms)
    assert e.value.code in ("wrong_state", "invalid_payload")


def test_pinned_raw_terms_work_as_well_as_parsed_terms() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    command = Command("deliver_transfer_notice", Actor(Party.OWNER, "alice"), fmp_notice())
    d = rofr.decide(None, {}, command, at("2026-03-02T10:00"), raw)
    assert d.state == "election_window" and d.data["holder"] == "alice"
    assert d.data["terms_id"] == "fmp-1998-nso"


def test_a_system_party_never_sends_commands() -> None:
    terms = TermsCatalog().get("fmp-1998-nso")
    command = Command("deliver_transfer_notice", Actor(Party.SYSTEM), fmp_notice())
    with pytest.raises(Refused) as e:
        rofr.decide(None, {}, command, at("2026-03-02T10:00"), terms)
    assert e.value.code == "not_authorised"


def test_a_malformed_payload_is_refused_not_raised() -> None:
    terms = TermsCatalog().get("fmp-1998-nso")
    bad_payloads = [
        fmp_notice(shares="many"),
        fmp_notice(shares=True),
        fmp_notice(notice={"method": "personal", "delivered_at": "yesterday"}),
        fmp_notice(notice={"method": "personal", "delivered_at": "2026-03-02T10:00"}),
        fmp_notice(notice="by hand"),
        fmp_notice(consideration={"form": "cash", "price_per_share": "NaN"}),
        fmp_notice(consideration={"form": "barter"}),
        fmp_notice(transferee=["Bob"]),
        fmp_notice(holder=None),
    ]
    for payload in bad_payloads:
        command = Command("deliver_transfer_notice", Actor(Party.OWNER), payload)
        with pytest.raises(Refused) as e:
            rofr.decide(None, {}, command, at("2026-03-02T10:00"), terms)
        assert e.value.code != "malformed", (payload, e.value.reason)  # a rule named the field


GARBAGE: list[dict[str, object]] = [
    {},
    {"notice": 5},
    {"notice": {"method": 5}},
    {"shares": -1},
    {"shares": "x"},
    {"notice": {"method": "personal", "delivered_at": 7}},
    {"event": 3},
    {"alternative": "sale_to_company", "notice": {"method": "personal"}},
    {"cash_value": [], "agreed_at": "x"},
    {"buyer": "x", "shares": 1},
    {"buyer": {"name": 5}},
    {"category": [], "transferee": 5},
    {"assignee": 5},
    {"closed_at": "2026-01-01"},
    {"transferees": [], "holder": "a", "shares": 1},
    {"transferees": [5], "holder": "a", "shares": 1},
    {"consideration": 5, "holder": "a", "shares": 1, "transferee": {"name": "x"}},
    {"event": "holders_of_record_exceeded", "holders_of_record": "x", "occurred_at": 5},
]


def _flows() -> list[Flow]:
    flows = []
    notices = [
        ("fmp-1998-nso", fmp_notice()),
        ("raydream-1992-iso", rd_notice()),
        ("fmp-1998-nso", fmp_notice(consideration={"form": "property", "description": "x"})),
    ]
    for terms_id, notice in notices:
        flows.append(Flow(terms_id))
        opened = Flow(terms_id)
        opened.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", notice)
        flows.append(opened)
        expired = Flow(terms_id)
        expired.send("deliver_transfer_notice", "owner", "2026-03-02T12:00", notice)
        expired.fire("election_deadline")
        flows.append(expired)
    return flows


def test_garbage_payloads_are_refused_by_a_rule_that_names_the_field() -> None:
    for flow in _flows():
        for name in COMMANDS:
            allowed = flow.terms.rofr.parties.get(name)
            party = allowed.value[0] if allowed else Party.OWNER
            for payload in GARBAGE:
                command = Command(name, Actor(party, "x"), payload)
                try:
                    rofr.decide(flow.state, flow.data, command, at("2026-04-05T12:00"), flow.terms)
                except Refused as e:
                    assert e.code != "malformed", (flow.state, name, payload, e.reason)


def test_the_chart_has_no_wildcard_and_each_recording_act_is_legal_only_where_named() -> None:
    from workflows.rofr.election import ASSIGNABLE, EXERCISABLE
    from workflows.rofr.machine import CHART
    from workflows.rofr.sale import PRE_SALE
    from workflows.rofr.valuation import VALUING_STATES

    assert "note" not in {t for _, t in TRANSITIONS}
    # Every self-loop is named for what it records, from the states where that is legal.
    assert CHART.sources("assign") == ASSIGNABLE == {
        "notice_insufficient", "election_window", "owner_choice", "owner_sale_window",
    }  # fmt: skip
    assert VALUING_STATES == {"election_window", "owner_choice", "valuation"}
    assert PRE_SALE == {"owner_sale_window", "transfer_pending_approval"}
    assert EXERCISABLE == {
        "election_window",
        "owner_choice",
        "owner_sale_window",
        "rofr_reattached",
    }
    assert CHART.sources("consent", "acknowledge") == {"exempt_transfer_pending"}
    assert ("closing", "progress_valuation") not in TRANSITIONS  # valued before the closing


def test_an_unknown_command_lists_the_aliases_too() -> None:
    terms = TermsCatalog().get("fmp-1998-nso")
    command = Command("deliver_disposal_notice", Actor(Party.OWNER), fmp_notice())
    with pytest.raises(Refused) as e:
        rofr.decide(None, {}, command, at("2026-03-02T10:00"), terms)
    assert e.value.code == "unknown_command"
    # FMP §6(d)(ii) calls it a Disposition Notice; the README sends it by that name.
    assert "deliver_disposition_notice" in e.value.reason
    assert "deliver_transfer_notice" in e.value.reason
