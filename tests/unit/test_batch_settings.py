"""The batch settings: the relay's pass, set apart from the deadlines service's, and the engine's
batches at once; each refused out of its range with the variable named and what it takes."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.bus.consumers import ENGINE_BATCHES_IN_FLIGHT
from services.relay import DEFAULT_BATCH_SIZE
from services.settings import Settings, settings_error


def test_the_relay_and_the_deadlines_service_take_their_own_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EQUITYFLOW_RELAY_BATCH", raising=False)
    monkeypatch.setenv("EQUITYFLOW_BATCH_SIZE", "25")
    settings = Settings()
    assert (settings.relay_batch, settings.batch_size) == (DEFAULT_BATCH_SIZE, 25)
    monkeypatch.setenv("EQUITYFLOW_RELAY_BATCH", "300")
    assert Settings().relay_batch == 300


def test_the_engine_applies_two_batches_at_once_unless_told(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", raising=False)
    assert Settings().engine_batches_in_flight == ENGINE_BATCHES_IN_FLIGHT == 2
    monkeypatch.setenv("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", "1")
    assert Settings().engine_batches_in_flight == 1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        *(
            ("EQUITYFLOW_RELAY_BATCH", v, "from 1 to 10000, e.g. 1000")
            for v in ("0", "10001", "many")
        ),
        *(
            ("EQUITYFLOW_ENGINE_BATCHES_IN_FLIGHT", v, "from 1 to 8, e.g. 2")
            for v in ("0", "9", "both")
        ),
    ],
)
def test_a_batch_out_of_range_names_the_variable_and_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    line = settings_error(refused.value)
    assert line.startswith(f"{variable}={value!r} is not valid")
    assert line.endswith(f"expected a whole number {expected}")
