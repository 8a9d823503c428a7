"""Every ROFR state, event and party has plain words, so no reader ever sees an internal name."""

from __future__ import annotations

import ast
from pathlib import Path

import workflows.rofr
from services.terms_catalog import TermsCatalog
from workflows.kernel import Party
from workflows.rofr import words
from workflows.rofr.machine import RofrMachine

ROFR = Path(workflows.rofr.__file__).parent


def _emitted_event_types() -> set[str]:
    """Each ``step.event("...")`` in the workflow's source, and the docstring's event list."""
    found: set[str] = set()
    for source in ROFR.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "event"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    listed = (workflows.rofr.__doc__ or "").split("Events:")[1].split("Events for")[0]
    found |= {name.strip(" .\n") for name in listed.split(",")}
    return found


def test_every_state_of_the_machine_has_a_sentence() -> None:
    assert {s.id for s in RofrMachine.states} == set(words.STATE_SENTENCES)


def test_every_event_the_workflow_emits_has_a_sentence() -> None:
    emitted = _emitted_event_types() | {"deadline_set", "deadline_cancelled", "deadline_passed"}
    assert len(emitted) > 30  # the scan found the workflow's events
    assert emitted <= set(words.EVENT_SENTENCES), emitted - set(words.EVENT_SENTENCES)


def test_every_party_has_a_name() -> None:
    assert {str(p) for p in Party} == set(words.PARTIES)


def test_an_event_names_the_notice_as_the_agreement_does(catalog: TermsCatalog) -> None:
    fmp, rd = catalog.get("fmp-1998-nso"), catalog.get("raydream-1992-iso")
    assert words.event_sentence("transfer_notice_received", fmp) == (
        "The Company received the Disposition Notice of a proposed transfer."
    )
    assert "Transfer Notice" in words.event_sentence("transfer_notice_received", rd)
    assert all("{" not in words.event_sentence(e, fmp) for e in words.EVENT_SENTENCES)
