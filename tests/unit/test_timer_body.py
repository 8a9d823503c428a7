"""The deadlines service writes a timer message's body itself: the same bytes as the model's."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from services.deadlines import _timer_body
from workflows.messages import TimerMessage

INSTANTS = [
    datetime(2026, 3, 2, 17, 0, tzinfo=UTC),
    datetime(2026, 3, 2, 17, 0, 0, 100, tzinfo=UTC),
    datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    datetime(1999, 1, 1, 0, 0, 1, tzinfo=timezone(timedelta(0))),  # UTC by another name
    datetime(2026, 3, 2, 18, 30, 0, 5, tzinfo=timezone(timedelta(hours=1, minutes=30))),
]
NAMES = [
    ("acme", "rofr", "election_deadline"),
    ("Globex_2.inc-x", "option_exercise", "payment_window_2"),
    ("c" * 100, "w" * 80, "t" * 80),  # as long as the model takes
    # What the model refuses it still refuses: the body is never written for them.
    ("société", "rofr", "election_deadline"),
    ("acme", "rofr", "a name with spaces"),
    ("acme", "rofr", 'quote"d'),
    ("acme", "rofr", "n" * 81),
    ("c" * 101, "rofr", "election_deadline"),
    ("", "rofr", "election_deadline"),
    ("acme", "Rofr", "election_deadline"),
]


def _row(due: datetime, company: str, workflow_type: str, name: str) -> dict[str, Any]:
    return {
        "timer_id": uuid.uuid4(),
        "workflow_id": uuid.uuid4(),
        "company_id": company,
        "workflow_type": workflow_type,
        "name": name,
        "due_at": due,
    }


@pytest.mark.parametrize("due", INSTANTS)
@pytest.mark.parametrize("names", NAMES)
def test_the_body_is_the_model_s_json_text(due: datetime, names: tuple[str, str, str]) -> None:
    row = _row(due, *names)
    try:
        expected = TimerMessage(
            message_id=str(row["timer_id"]),
            company_id=row["company_id"],
            workflow_id=row["workflow_id"],
            workflow_type=row["workflow_type"],
            timer=row["name"],
            due_at=due,
        ).model_dump_json()
    except ValueError:  # what the model refuses is refused the same way
        with pytest.raises(ValueError):
            _timer_body(row)
        return
    assert _timer_body(row) == expected.encode()


def test_a_plain_timer_s_body_is_written_without_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_model(**_: Any) -> None:
        raise AssertionError("built through the model")

    monkeypatch.setattr("services.deadlines.TimerMessage", no_model)
    row = _row(INSTANTS[1], *NAMES[0])
    assert _timer_body(row).startswith(b'{"kind":"timer","message_id":"')
    with pytest.raises(AssertionError):  # a value to check goes through the model
        _timer_body(_row(INSTANTS[1], *NAMES[3]))
