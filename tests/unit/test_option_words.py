"""The option's workflows speak in sentences: every event a grant, an exercise or a termination
can record has one, filled from the event's own payload."""

from __future__ import annotations

import ast
from pathlib import Path
from types import ModuleType

import pytest

from workflows.exercise import words as exercise_words
from workflows.grants import words as grant_words
from workflows.termination import words as termination_words

ROOT = Path(__file__).resolve().parents[2] / "workflows"


def _events_recorded(package: str) -> set[str]:
    """The event types a package's rules record: ``step.event("x", ...)``, ``Event("x", ...)``."""
    found = set()
    for path in (ROOT / package).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else None
            name = node.func.id if isinstance(node.func, ast.Name) else name
            first = node.args[0]
            if name in ("event", "Event") and isinstance(first, ast.Constant):
                found.add(str(first.value))
    return found


@pytest.mark.parametrize(
    ("package", "words"),
    [("grants", grant_words), ("exercise", exercise_words), ("termination", termination_words)],
)
def test_every_event_a_kind_records_has_a_sentence(package: str, words: ModuleType) -> None:
    recorded = _events_recorded(package)
    assert recorded, package
    assert sorted(recorded - set(words.EVENT_SENTENCES)) == []


def test_a_certificate_is_said_with_its_number_the_shares_withheld_and_the_cash_fraction() -> None:
    certificate = {
        "number": "C-7",
        "registered_in": "Carol Optionee",
        "shares": {
            "purchased": 100,
            "withheld": "12.5",
            "issued": 87,
            "fraction": {"shares": "0.5", "cash": "2.00", "clause": "RD ISO ¶4(g)"},
        },
        "legends": [{"clause": "RD ISO ¶15"}, {"clause": "RD ISO ¶16"}],
    }
    said = exercise_words.event_sentence(
        "certificate_issued", {"certificate": certificate}, "notice"
    )
    assert said == (
        "Certificate C-7 was issued in the name of Carol Optionee for 87 shares (100 bought, 12.5 "
        "withheld for the tax); the fraction of 0.5 share paid in cash, $2.00, with the legends "
        "of RD ISO ¶15; RD ISO ¶16."
    )


def test_an_event_missing_a_field_its_sentence_names_is_said_plainly_not_with_a_blank() -> None:
    said = termination_words.event_sentence("unvested_shares_forfeited", {"clause": "FMP §5(a)"})
    assert said == "Unvested shares forfeited."


def test_the_window_closing_says_how_many_shares_expired_and_its_clause() -> None:
    said = termination_words.event_sentence(
        "post_termination_window_closed",
        {"unexercised_expired": 1600, "deadline": {"clause": "FMP §5(a)"}},
    )
    assert said == (
        "The post-termination window closed: 1,600 shares not exercised expired and returned to "
        "the plan's pool (FMP §5(a))."
    )
