"""What a new user trips over on the command line: every operator's mistake is one line on
stderr naming what was wrong and what to do instead, exit code 2, and it changes nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import pytest
import yaml
from typer.testing import CliRunner

from services.cli import app
from services.terms_catalog import PRESETS_DIR, TermsCatalog
from workflows.terms import parse_terms_text

REPO = Path(__file__).resolve().parents[2]
runner = CliRunner()


def _one_line(output: str) -> str:
    lines = output.strip().splitlines()
    assert len(lines) == 1, output
    assert "Traceback" not in output
    return lines[0]


# -- finding 4: a setting that does not parse --------------------------------------------------


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("EQUITYFLOW_HTTP_PORT", "eighty", "a port number"),
        ("EQUITYFLOW_SIMULATED_CLOCK", "yes-please", "true or false"),
        ("EQUITYFLOW_TERMS_DIRS", '["unclosed', "JSON list"),
        ("EQUITYFLOW_TIMER_REDELIVERY_GRACE", "0", "greater than 0"),
    ],
)
def test_a_setting_that_does_not_parse_is_one_line_naming_the_variable(
    variable: str, value: str, expected: str
) -> None:
    result = runner.invoke(app, ["terms", "list"], env={variable: value})
    assert result.exit_code == 2, result.output
    line = _one_line(result.output)
    assert line.startswith(f"equityflow: {variable}={value!r} is not valid"), line
    assert expected in line


def _company_terms_folder(folder: Path, terms_id: str) -> Path:
    folder.mkdir()
    preset = (PRESETS_DIR / "fmp-1998-nso.yaml").read_text(encoding="utf-8")
    text = preset.replace("id: fmp-1998-nso", f"id: {terms_id}", 1)
    (folder / f"{terms_id}.yaml").write_text(text, encoding="utf-8")
    return folder


def test_terms_dirs_takes_a_plain_folder_or_several_separated_as_in_path(tmp_path: Path) -> None:
    one = _company_terms_folder(tmp_path / "one", "acme-2026")
    two = _company_terms_folder(tmp_path / "two", "globex-2026")
    for value in (str(one), f"{one}{os.pathsep}{two}", json.dumps([str(one), str(two)])):
        result = runner.invoke(app, ["terms", "list"], env={"EQUITYFLOW_TERMS_DIRS": value})
        assert result.exit_code == 0, result.output
        assert "acme-2026" in result.output.split()
    assert "globex-2026" in result.output.split()


def test_a_terms_folder_that_does_not_exist_is_one_line(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere"
    result = runner.invoke(app, ["terms", "list"], env={"EQUITYFLOW_TERMS_DIRS": str(missing)})
    assert result.exit_code == 2, result.output
    assert str(missing) in _one_line(result.output)


# -- finding 2: advance-clock on an installation on the real clock ----------------------------


async def _sim_clock(url: str) -> datetime | None:
    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT now FROM sim_clock")  # type: ignore[no-any-return]
    finally:
        await connection.close()


async def test_advance_clock_is_refused_on_the_real_clock_and_writes_nothing(
    fresh_database_url: str,
) -> None:
    env = {"DATABASE_URL": fresh_database_url, "EQUITYFLOW_SIMULATED_CLOCK": "false"}
    result = runner.invoke(app, ["advance-clock", "--days", "30"], env=env)
    assert result.exit_code == 2, result.output
    line = _one_line(result.output)
    assert "the clock is real" in line and "EQUITYFLOW_SIMULATED_CLOCK=true" in line
    assert await _sim_clock(fresh_database_url) is None

    # Said to be simulated, but no simulated clock ever ran here: still nothing is written.
    simulated = {**env, "EQUITYFLOW_SIMULATED_CLOCK": "true"}
    result = await asyncio.to_thread(
        runner.invoke, app, ["advance-clock", "--days", "30"], env=simulated
    )
    assert result.exit_code == 2, result.output
    assert "up --simulated-clock" in _one_line(result.output)
    assert await _sim_clock(fresh_database_url) is None


async def test_advance_clock_moves_a_simulated_installations_clock(
    fresh_database_url: str,
) -> None:
    start = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
    connection = await asyncpg.connect(fresh_database_url)
    try:  # what a simulated installation writes when it starts
        await connection.execute("INSERT INTO sim_clock (id, now) VALUES (true, $1)", start)
    finally:
        await connection.close()
    env = {"DATABASE_URL": fresh_database_url, "EQUITYFLOW_SIMULATED_CLOCK": "false"}
    # In a thread: the command runs its own event loop, as it does from a shell.
    result = await asyncio.to_thread(
        runner.invoke, app, ["advance-clock", "--days", "30", "--simulated-clock"], env=env
    )
    assert result.exit_code == 0, result.output
    assert await _sim_clock(fresh_database_url) == start + timedelta(days=30)


# -- finding 3: serve without the servers it needs ---------------------------------------------


def _equityflow(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "AMQP_URL"} and not k.startswith("EQUITYFLOW_")
    }
    environment.update(
        EQUITYFLOW_DATA_DIR=str(cwd / ".equityflow"),
        PYTHONPATH=os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        **env,
    )
    # A service that starts anyway would run until killed: the timeout fails the test.
    return subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


async def test_serve_refuses_to_start_without_the_servers_it_needs(
    tmp_path: Path, database_url: str
) -> None:
    api = await asyncio.to_thread(_equityflow, tmp_path, "serve", "api")
    assert api.returncode == 2, api.stdout + api.stderr
    assert "serve api needs DATABASE_URL" in _one_line(api.stderr)
    assert not (tmp_path / ".equityflow").exists(), "the embedded PostgreSQL was started"

    engine = await asyncio.to_thread(
        _equityflow, tmp_path, "serve", "engine", DATABASE_URL=database_url
    )
    assert engine.returncode == 2, engine.stdout + engine.stderr
    assert "serve engine needs AMQP_URL" in _one_line(engine.stderr)


# -- finding 7: terms show is YAML counsel can read --------------------------------------------


def test_terms_show_prints_yaml_with_real_section_signs_shaped_as_a_terms_file() -> None:
    result = runner.invoke(app, ["terms", "show", "fmp-1998-nso"])
    assert result.exit_code == 0, result.output
    assert "FMP §6(d)(iii)" in result.output
    assert "\\u00a7" not in result.output
    assert not result.output.lstrip().startswith("{")
    # Saved as a company's terms file, it reads back as the same terms.
    shown = parse_terms_text(result.output, source="terms show")
    assert shown == TermsCatalog().get("fmp-1998-nso")
    assert yaml.safe_load(result.output)["id"] == "fmp-1998-nso"

    as_json = runner.invoke(app, ["terms", "show", "fmp-1998-nso", "--json"])
    assert as_json.exit_code == 0, as_json.output
    assert json.loads(as_json.output)["id"] == "fmp-1998-nso"


# -- finding 9: the small rough edges ----------------------------------------------------------


def test_version_is_printed() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "equityflow 0.1.0"


@pytest.mark.parametrize("command", [[], ["up"], ["redrive"], ["advance-clock"], ["terms"]])
def test_help_never_labels_a_flag_as_taking_a_bool(command: list[str]) -> None:
    result = runner.invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "<bool>" not in result.output


def test_unknown_terms_are_one_line_naming_them_once() -> None:
    result = runner.invoke(app, ["terms", "show", "fmp-1999-nso"])
    assert result.exit_code == 2, result.output
    line = _one_line(result.output)
    assert line.startswith("equityflow: TERMS_ID: unknown terms 'fmp-1999-nso'; known terms: ")
    assert line.count("unknown terms") == 1


def test_up_takes_the_address_to_listen_on() -> None:
    result = runner.invoke(app, ["up", "--help"])
    assert "--host" in result.output
