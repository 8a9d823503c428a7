"""The exercise sections of the presets: what differs between the agreements is data."""

from __future__ import annotations

import json

from exercise_flow import FMP, cash, facts, flow, notice
from kind_flow import CATALOG, delivered, iso

from workflows.exercise import CHART, COMMANDS
from workflows.kernel import refusal_status


def test_the_rd_nso_exercise_section_differs_from_the_iso_only_where_the_agreements_do() -> None:
    iso = CATALOG.raw("raydream-1992-iso")["option_exercise"]
    nso = CATALOG.raw("raydream-1992-nso")["option_exercise"]
    assert [x["key"] for x in iso["legends"]][-1] == "incentive_stock_option"
    assert [x["clause"] for x in nso["legends"]] == [
        "RD NSO ¶14 (Rule 260.141.11(c)), ¶15(b)",
        "RD NSO ¶15(a)",
        "RD NSO ¶15(c)",
    ]
    assert iso["disposition_watch"]["clause"] == "RD ISO ¶14"
    assert nso["disposition_watch"]["clause"] == "RD NSO Exercise Form"
    same = ("legends", "disposition_watch", "optional_legends")
    rest = {k: v for k, v in nso.items() if k not in same}
    text = json.dumps(rest, sort_keys=True, ensure_ascii=False).replace("RD NSO", "RD ISO")
    text = text.replace("Nonqualified Stock Option", "Incentive Stock Option")
    expected = {k: v for k, v in iso.items() if k not in same}
    assert text == json.dumps(expected, sort_keys=True, ensure_ascii=False)


def test_fmp_and_rd_differ_in_forms_of_payment_as_their_clauses_say() -> None:
    fmp = CATALOG.get("fmp-1998-nso").option_exercise
    rd = CATALOG.get("raydream-1992-iso").option_exercise
    assert fmp is not None and rd is not None
    allowed = {name for name, form in fmp.payment.forms.items() if form.allowed}
    assert allowed == {"cash", "check", "salary_debt_cancellation", "shares"}
    allowed = {name for name, form in rd.payment.forms.items() if form.allowed}
    assert allowed == {"cash", "check", "cash_equivalent", "shares", "immediate_sales_proceeds"}
    assert fmp.withholding.election is not None and rd.withholding.election is None
    assert fmp.notice.irrevocable.value and not rd.notice.irrevocable.value


def test_every_command_the_presets_name_has_a_rule_and_every_rule_a_chart_move() -> None:
    for terms_id in CATALOG.ids():
        section = CATALOG.get(terms_id).option_exercise
        assert section is not None and set(section.parties) <= set(COMMANDS.names)
    named = {  # the transitions the rules name (workflows/exercise/*.py)
        "submit_notice", "accept_notice", "accept_payment", "refuse_payment",
        "tender_for_review", "tender_accepted", "record_condition", "elect",
        "approve_election", "disapprove_election", "election_deemed_approved", "issue",
        "reject", "withdraw",
    }  # fmt: skip
    CHART.check(named)
    assert CHART.finals() == {"completed", "rejected", "withdrawn"}
    assert "election_pending" in CHART.mermaid()


def test_a_misspelt_field_is_refused_naming_it_and_a_command_out_of_turn_names_the_state() -> None:
    f = flow(FMP)
    payload = notice(1_000, [cash("500")], delivered("2000-03-01T10:00"), facts())
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", payload | {"share": 1})
    assert refusal_status(r.code) == 422 and "payload.share is not a field" in r.reason
    bad = payload | {"payment": [{"form": "cash", "amount": "-5"}]}
    r = f.refused("deliver_exercise_notice", "owner", "2000-03-01T11:00", bad)
    assert r.code == "invalid_payload" and "payload.payment.0.amount" in r.reason
    issue = {"certificate_number": "C-1", "issued_at": iso("2000-03-01T11:00")}
    r = f.refused("issue_certificate", "company", "2000-03-01T11:00", issue)
    assert (r.code, r.rule) == ("wrong_state", "FMP §4(a)")
    assert "while the exercise is not yet exercised" in r.reason
