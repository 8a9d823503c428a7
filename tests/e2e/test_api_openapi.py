"""The served HTTP API against its own OpenAPI document, fuzzed by schemathesis.

``equityflow serve api`` runs in its own process on a database of its own, with the simulated
clock; schemathesis reads ``/openapi.json`` from it and sends generated requests, authenticated
with a real operator key that also holds every grant in company ``acme``. Every response must
be documented (status, content type, headers, body) and none may be a 5xx. A fuzzer once found
`{"minutes": 2009055957343690240}` → 500, `{"minutes": false}` → 200, and 404, 400 and
problem+json answers missing from the document. Bounded: a few examples per operation.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from conftest import TEST_DATABASE_URL, _drop_database, _migrated_database, _with_database
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance

REPO = Path(__file__).resolve().parents[2]
# Per operation and mode (valid, invalid): enough to find the failures once found by hand,
# few enough to keep the test well under a minute on a loaded CI machine.
EXAMPLES = 15
# What OpenAPI cannot express, so a schema-valid request may rightly be a 422: a command's
# payload is checked against the rules of its workflow and command (listed in workflows/rofr),
# and the deadlines keyset's two halves go together. Every other check applies to both.
_EXCLUDED = {
    "POST /api/v1/companies/{company_id}/commands": [positive_data_acceptance],
    "GET /api/v1/companies/{company_id}/deadlines": [positive_data_acceptance],
}


@dataclass(frozen=True)
class Served:
    url: str
    key: str


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def _wait_healthy(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + 180  # a loaded CI machine starts slowly
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"equityflow serve api exited:\n{log.read_text()[-3000:]}")
        try:
            if httpx.get(f"{url}/api/v1/health", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.2)
    raise AssertionError(f"equityflow serve api not healthy within 180 s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    name = asyncio.run(_migrated_database())
    database_url = _with_database(TEST_DATABASE_URL, name)
    port = _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("EQUITYFLOW_")},
        "DATABASE_URL": database_url,
        "EQUITYFLOW_SIMULATED_CLOCK": "true",
        "EQUITYFLOW_HTTP_PORT": str(port),
        "PYTHONPATH": str(REPO),
    }
    env.pop("AMQP_URL", None)
    key = _cli(env, "keys", "create", "--operator", "--label", "schemathesis")
    log = tmp_path_factory.mktemp("serve-api") / "api.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "serve", "api"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=log.parent,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(process, url, log)
        acme = httpx.put(
            f"{url}/api/v1/companies/acme",
            json={"terms_id": "fmp-1998-nso", "name": "Acme, Inc."},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert acme.status_code == 200, acme.text
        yield Served(url, key)
    finally:
        process.terminate()
        process.wait(30)
        asyncio.run(_drop_database(name))
    assert "Traceback" not in log.read_text(), log.read_text()[-3000:]


@pytest.fixture(scope="module")
def api_schema(served: Served) -> Any:
    schema = schemathesis.openapi.from_url(f"{served.url}/openapi.json")
    schema.config.output.sanitization.update(enabled=False)  # show the key in a failure's curl
    return schema


def _strategy(operation: Any, mode: GenerationMode) -> st.SearchStrategy[Any]:
    """Generated requests; valid ones also against company ``acme``, which the key holds."""
    generated = [operation.as_strategy(generation_mode=mode)]
    if mode is GenerationMode.POSITIVE and "{company_id}" in operation.path:
        generated.append(
            operation.as_strategy(generation_mode=mode, path_parameters={"company_id": "acme"})
        )
    return st.one_of(generated)


def test_every_answer_is_documented_and_none_is_a_server_error(
    api_schema: Any, served: Served
) -> None:
    headers = {"Authorization": f"Bearer {served.key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert {op.label for op in operations} >= {
        "POST /api/v1/companies/{company_id}/commands",
        "PUT /api/v1/companies/{company_id}",
        "POST /api/v1/clock/advance",
    }
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            _fuzz(operation, mode, headers)


def _fuzz(operation: Any, mode: GenerationMode, headers: dict[str, str]) -> None:
    @given(case=_strategy(operation, mode))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        note(f"{operation.label} ({mode})")
        case.call_and_validate(headers=headers, excluded_checks=_EXCLUDED.get(operation.label))

    try:
        check()
    except Unsatisfiable:
        # An operation with no parameter and no body has no invalid request to generate.
        if mode is GenerationMode.POSITIVE or operation.body or operation.path_parameters:
            raise
