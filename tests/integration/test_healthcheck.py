"""The image's HEALTHCHECK: healthy when what the service needs answers, and otherwise one line
saying what does not."""

from __future__ import annotations

import socket

import pytest

from services.healthcheck import main, service_of


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_service_is_read_from_the_containers_command_line() -> None:
    assert service_of(["/app/.venv/bin/python", "/app/.venv/bin/equityflow", "serve", "relay"]) == (
        "relay"
    )
    assert service_of(["/sbin/docker-init", "--", "equityflow", "serve", "api"]) == "api"
    assert service_of(["equityflow", "up"]) == "api"
    assert service_of([]) is None


def test_a_worker_is_healthy_when_its_database_and_broker_answer(
    database_url: str, amqp_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AMQP_URL", amqp_url)
    assert main(["engine"]) == 0


def test_a_worker_whose_broker_does_not_answer_is_unhealthy_and_says_so(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("AMQP_URL", f"amqp://guest:guest@127.0.0.1:{_closed_port()}/")
    assert main(["deadlines"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("unhealthy (deadlines): RabbitMQ does not answer at AMQP_URL")
    assert err.count("\n") == 1


def test_an_api_that_does_not_answer_is_unhealthy_and_names_its_url(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    port = _closed_port()
    monkeypatch.setenv("EQUITYFLOW_HTTP_HOST", "0.0.0.0")
    monkeypatch.setenv("EQUITYFLOW_HTTP_PORT", str(port))
    assert main(["api"]) == 1
    assert f"the API does not answer at http://127.0.0.1:{port}/api/v1/health" in (
        capsys.readouterr().err
    )
