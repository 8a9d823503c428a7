"""The ROFR chart is the rule: guards pick a move, entry effects run from the chart, and no rule
names a target of its own."""

from __future__ import annotations

import ast
from pathlib import Path

from test_rofr_fmp_partial import dated_long_before_receipt, partly_exercised
from test_rofr_harness import CATALOG, Flow, delivered, fmp_notice, types

from workflows.kit.chart import Chart
from workflows.kit.clauses import ENFORCED
from workflows.rofr.machine import CHART
from workflows.terms import parse_terms

RULES = Path(__file__).resolve().parents[2] / "workflows"


def _calls_to_step() -> set[str]:
    named = set()
    for path in (RULES / "rofr").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "Step":
                first = node.args[0]
                assert isinstance(first, ast.Constant), f"{path.name}: Step({ast.unparse(first)})"
                named.add(first.value)
    return named


def test_no_rule_names_a_target_it_then_overrides() -> None:
    for path in RULES.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            targets = getattr(node, "targets", None) or [getattr(node, "target", None)]
            for t in targets:
                assert not (isinstance(t, ast.Attribute) and t.attr == "transition"), (
                    f"{path.name}:{node.lineno} reassigns a step's transition"
                )


def test_every_event_a_rule_sends_is_on_the_chart() -> None:
    named = _calls_to_step()
    assert {"exercise", "choose", "sell", "close", "reject_notice"} <= named
    CHART.check(named)


def test_every_guard_and_entry_effect_of_the_chart_cites_its_clause() -> None:
    enforcing = {fn for fns in ENFORCED.values() for fn in fns}
    functions = set()
    for state in CHART.states.values():
        for transition in state.transitions:
            functions |= {s.func for s in transition.cond}
            functions |= set(Chart.entry_effects(transition))
    assert len(functions) >= 12
    unclaimed = {f.__qualname__ for f in functions} - {n.rsplit(".", 1)[1] for n in enforcing}
    assert not unclaimed, unclaimed


def test_each_drawn_move_is_one_transition_so_the_diagram_shows_all_its_guards() -> None:
    # python-statemachine draws one edge per source, event and target, with its guards: two
    # transitions sharing all three would show the guards of only one.
    moves = [(s, e, t.target.id) for (s, e), ts in CHART.moves.items() for t in ts]
    assert len(moves) == len(set(moves))


def test_the_diagram_shows_the_guards_and_the_entry_effects() -> None:
    diagram = CHART.mermaid()
    assert "election_window --> closing : Exercise [company_buys, !awaits_valuation]" in diagram
    assert "owner_choice --> owner_sale_window : Owner silent [a_stands]" in diagram
    assert "closing : entry / schedule_closing" in diagram
    assert CHART.mermaid("closing").rstrip().endswith("closing:::active")


def test_a_further_part_exercise_enters_the_owners_choice_afresh() -> None:
    flow = partly_exercised()  # 400 of 1000 elected
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-03-12T12:00",
        {"shares": 100, "notice": delivered("2026-03-12T09:00")},
    )
    assert flow.state == "owner_choice" and flow.data["elected_shares"] == 500
    assert types(d) == ["rofr_exercised", "owner_choice_window_opened"]


def test_a_move_within_a_state_runs_no_entry_effect() -> None:
    flow = Flow("fmp-1998-nso")
    flow.send("deliver_transfer_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send(
        "waive_rofr", "company", "2026-03-05T12:00", {"notice": delivered("2026-03-05T09:00")}
    )
    assert flow.state == "owner_sale_window"
    d = flow.send("assign_rofr", "company", "2026-03-06T12:00", {"assignee": "Acme Holdings"})
    assert types(d) == ["rofr_assigned"] and not d.set_timers


def test_a_deemed_b_after_the_right_applied_again_goes_to_the_purchase() -> None:
    # Terms that make (B) the default on silence: a part exercise, entered after the sale window
    # closed but effective before the company's deadline and after the owner's, is a sale of the
    # elected part to the company. It is judged where it took effect (the company's window still
    # open), and the expiries it contradicts are void.
    raw = CATALOG.raw("fmp-1998-nso")
    raw["rofr"]["partial_exercise"]["on_silence"]["value"] = "sale_to_company"
    flow = dated_long_before_receipt()  # the owner's 30 days end 2026-03-03, the company's 04-01
    flow.terms = parse_terms(raw)
    flow.fire("election_deadline")
    flow.fire("sale_window_end")
    assert flow.state == "rofr_reattached"
    d = flow.send(
        "exercise_rofr",
        "company",
        "2026-05-04T12:00",
        {"shares": 400, "notice": delivered("2026-03-20T09:00")},
    )
    assert flow.state == "closing" and flow.data["purchase_shares"] == 400
    assert types(d)[:3] == ["rofr_exercised", "sale_alternative_chosen", "closing_scheduled"]
    voided = [e.payload["reason"] for e in d.events if e.type == "fact_voided"]
    assert len(voided) == 2
    assert "election deadline" in voided[0] and "sale window end" in voided[1]


def test_the_states_an_event_is_legal_in_are_those_of_its_moves() -> None:
    events = sorted({e for _, e in CHART.moves})
    for i, event in enumerate(events):
        for pair in ((event,), (event, events[i - 1])):
            assert CHART.sources(*pair) == {s for s, e in CHART.moves if e in pair}
    assert CHART.sources("no_such_event") == frozenset()
