"""EQUITYFLOW_RELAY_BATCH: the relay's pass, set apart from the deadlines service's."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

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


@pytest.mark.parametrize("value", ["0", "10001", "many"])
def test_a_relay_batch_out_of_range_names_the_variable_and_what_it_takes(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("EQUITYFLOW_RELAY_BATCH", value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    line = settings_error(refused.value)
    assert line.startswith(f"EQUITYFLOW_RELAY_BATCH={value!r} is not valid")
    assert line.endswith("expected a whole number from 1 to 10000, e.g. 1000")
