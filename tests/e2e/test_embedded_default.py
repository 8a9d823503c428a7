"""The embedded default, as a newcomer meets it: the demo leaves nothing behind, and a missing
embedded PostgreSQL is a one-line instruction, not a traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from services.cli import app

REPO = Path(__file__).resolve().parents[2]


def _env_without_servers(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "AMQP_URL"} and not k.startswith("EQUITYFLOW_")
    }
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return {**env, **extra}


def _postgres_processes_under(folder: Path) -> list[str]:
    found = []
    for proc in Path("/proc").iterdir():
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "postgres" in cmdline and str(folder) in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture
def scratch() -> Iterator[Path]:
    """A short temporary folder: PostgreSQL's socket path must fit in 107 bytes."""
    folder = Path(tempfile.mkdtemp(prefix="ef-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_the_demo_on_the_embedded_default_leaves_nothing_behind(
    tmp_path: Path, scratch: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "demo"],
        cwd=work,  # where `.equityflow/` used to be left, with its 38 MB PostgreSQL data folder
        env=_env_without_servers(TMPDIR=str(scratch)),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Working on a temporary embedded PostgreSQL" in done.stdout
    assert done.stdout.rstrip().endswith(
        "Cleaned up: the embedded PostgreSQL, stopped and deleted."
    )
    assert list(work.iterdir()) == []
    assert not list(scratch.glob("equityflow-demo-*"))
    assert not _postgres_processes_under(scratch)


def test_up_without_database_url_and_without_the_embedded_postgres_says_how_to_get_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setitem(sys.modules, "pgserver", None)  # as in the image: not installed
    monkeypatch.chdir(tmp_path)
    for name in ("DATABASE_URL", "AMQP_URL", "EQUITYFLOW_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(app, ["up", "--port", "18000"])
    assert result.exit_code == 2, result.output
    message = result.output.strip()
    assert "\n" not in message and "Traceback" not in message
    assert "DATABASE_URL is not set" in message
    assert "uv sync" in message and "pip install pgserver" in message
