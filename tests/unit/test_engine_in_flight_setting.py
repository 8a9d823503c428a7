"""EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT: the engine's batches at once, 1 to 8, 2 by default."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.bus.consumers import ENGINE_BATCHES_IN_FLIGHT
from services.settings import Settings, settings_error


def test_the_engine_applies_two_batches_at_once_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", raising=False)
    assert Settings().engine_batches_in_flight == ENGINE_BATCHES_IN_FLIGHT == 2
    monkeypatch.setenv("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", "1")
    assert Settings().engine_batches_in_flight == 1


@pytest.mark.parametrize("value", ["0", "9", "both"])
def test_a_count_out_of_range_names_the_variable_and_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    line = settings_error(refused.value)
    assert line.startswith(f"EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT={value!r} is not valid")
    assert line.endswith("expected a whole number from 1 to 8, e.g. 2")
