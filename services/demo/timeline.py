"""The demo's timeline as a stock administrator reads it: plain words, wrapped to 100 columns.

Each step prints what happened (each kind's own sentences: ``workflows.rofr.words``,
``workflows.grants.words``, ``workflows.exercise.words``, ``workflows.termination.words``), then
each deadline it set with the clause it comes from and how its date was counted.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from workflows.exercise import words as exercise_words
from workflows.grants import words as grant_words
from workflows.rofr import words as rofr_words
from workflows.shares import words as share_words
from workflows.termination import words as termination_words
from workflows.terms import Terms
from workflows.terms.exercise import ExerciseTerms

WIDTH = 100
RULE = "═" * WIDTH
_NBSP = "\u00a0"
_KEEP_TOGETHER = re.compile(
    r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?: [A-Z]{2,5})?)?"  # a date, its time and zone
    r"|[A-Z][A-Za-z]*(?: [A-Z]{2,4})? [§¶][^\s,;)]*"  # a citation: FMP §6(d)(iii), RD ISO ¶11(d)
    r"|\+ \d+ \w+"  # + 30 days
)
_ENGINE_EVENTS = {"deadline_set", "deadline_cancelled", "deadline_passed"}
_LIFTED = {"deadline_cancelled": "No longer due", "deadline_passed": "Passed"}
_WORDS = {
    "grant": grant_words,
    "option_exercise": exercise_words,
    "termination": termination_words,
    "share_register": share_words,
}


def wrap(text: str, indent: str = "", first: str | None = None) -> list[str]:
    """Lines of at most WIDTH columns that never split a date, a citation or a period."""
    glued = _KEEP_TOGETHER.sub(lambda m: m.group().replace(" ", _NBSP), text)
    lines = textwrap.wrap(
        glued,
        WIDTH,
        initial_indent=indent if first is None else first,
        subsequent_indent=indent,
        break_long_words=False,
        break_on_hyphens=False,
    )
    return [line.replace(_NBSP, " ") for line in lines]


def moment(when: datetime | str, zone: str) -> str:
    """``Mon 2026-03-02 09:00 PST``: the weekday matters when a deadline falls on a weekend."""
    at = datetime.fromisoformat(when) if isinstance(when, str) else when
    local = at.astimezone(ZoneInfo(zone))
    return f"{local:%a %Y-%m-%d %H:%M} {local.tzname()}"


def zone_of(terms: Terms) -> str:
    return terms.calendar.time_zone.value


def agreement(number: int, title: str, terms: Terms) -> list[str]:
    """The scenario's heading: the agreement by name, and what its citations abbreviate."""
    lines = ["", RULE, *wrap(title, "   ", f"{number}. "), RULE]
    lines += wrap(f"{terms.name} (terms {terms.id})", " " * 11, "Agreement  ")
    for i, (short, document) in enumerate(terms.documents.items()):
        lines += wrap(f"{short}: {document}", " " * 11, "Cited as   " if i == 0 else " " * 11)
    return lines


def step(at: datetime, what: str, zone: str) -> list[str]:
    when = moment(at, zone)
    return ["", *wrap(what, " " * (len(when) + 2), f"{when}  ")]


def happened(rows: Iterable[Mapping[str, Any]], terms: Terms, kind: str) -> list[str]:
    """What each new history row recorded: its events in words, then deadlines set and lifted."""
    lines: list[str] = []
    for row in rows:
        events = row["events"]
        for e in events:
            if e["type"] not in _ENGINE_EVENTS:
                lines += wrap(event_sentence(kind, e["type"], e["payload"], terms), "    ", "  • ")
                if kind == "grant":
                    for check in grant_words.checks(e["type"], e["payload"]):
                        lines += wrap(check, "      ")
        for e in events:
            if e["type"] == "deadline_set":
                lines += _deadline(e["payload"], terms, kind)
            elif e["type"] in _LIFTED:
                p = e["payload"]
                due = moment(p["due_at"], zone_of(terms))
                who = party_name(kind, p["party"])
                lines += wrap(f"{_LIFTED[e['type']]}: {who}'s deadline of {due}.", "    ", "  ✓ ")
    return lines


def event_sentence(kind: str, event_type: str, payload: Mapping[str, Any], terms: Terms) -> str:
    """The event in the words of its own kind."""
    if kind == "grant":
        return grant_words.event_sentence(event_type, payload)
    if kind == "option_exercise":
        section = terms.section("option_exercise")
        name = section.notice.name.value if isinstance(section, ExerciseTerms) else "notice"
        return exercise_words.event_sentence(event_type, payload, name)
    if kind == "termination":
        return termination_words.event_sentence(event_type, payload)
    if kind == "share_register":
        return share_words.event_sentence(event_type, payload)
    return rofr_words.event_sentence(event_type, terms)


def state_sentence(kind: str, state: str) -> str:
    """Where the workflow stands, in the words of its own kind."""
    sentence: str = _WORDS.get(kind, rofr_words).state_sentence(state)  # a module: untyped
    return sentence


def party_name(kind: str, party: str) -> str:
    """Who must act: in an option's workflows the owner is the optionee."""
    if kind != "rofr":
        return grant_words.PARTIES.get(party) or rofr_words.party_name(party)
    return rofr_words.party_name(party)


def _deadline(p: Mapping[str, Any], terms: Terms, kind: str) -> list[str]:
    due = moment(p["due_at"], zone_of(terms))
    who = party_name(kind, p["party"])
    lines = wrap(f"{who} must {p['action']}.", "      ", f"  Due {due}: ")
    rule, start = _split_derivation(p["derivation"])
    lines += wrap(rule, "      ")
    if start:
        lines += wrap(start, "      ")
    return lines


def _split_derivation(derivation: str) -> tuple[str, str]:
    """The count itself, and the parenthesis saying where it started (a notice's effect)."""
    arrow = derivation.find("→")
    start = derivation.find(" (", arrow) if arrow >= 0 else -1
    if start < 0 or not derivation.endswith(")"):
        return derivation, ""
    return derivation[:start], derivation[start + 1 :]


def outcome(workflows: Iterable[tuple[str, Mapping[str, Any]]]) -> list[str]:
    """Where each of the story's workflows ended, and whether anything can still move it."""
    lines = [""]
    for i, (kind, wf) in enumerate(workflows):
        pending = len(wf["deadlines"])
        if wf["final"]:
            status = "The workflow is closed."
        elif pending:
            status = f"The workflow stays open, with {_count(pending, 'deadline')} pending."
        else:
            status = "The workflow stays open, with no deadline pending."
        said = f"{state_sentence(kind, wf['state'])} {status}"
        lines += wrap(said, " " * 9, "Outcome: " if i == 0 else " " * 9)
    return lines


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
