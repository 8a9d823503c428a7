"""workflows/ is pure: the house rule that lets a workflow be tested with a date and a dict.

It checks the import graph (by parsing, not by grepping) and every call that would read the clock.
"""

from __future__ import annotations

import ast
from pathlib import Path

WORKFLOWS = Path(__file__).resolve().parents[2] / "workflows"
FORBIDDEN_MODULES = {
    "services", "asyncpg", "aio_pika", "aiormq", "faststream", "asyncio", "psycopg",
    "sqlalchemy", "httpx", "aiosmtplib", "socket", "subprocess", "requests", "urllib",
    "time", "os", "pathlib", "shutil", "io", "uvicorn", "fastapi",
}  # fmt: skip
CLOCK_CALLS = {("datetime", "now"), ("datetime", "utcnow"), ("datetime", "today"),
               ("date", "today"), ("time", "time"), ("time", "monotonic")}  # fmt: skip
IO_BUILTINS = {"open", "input", "print"}


def _sources() -> list[Path]:
    files = sorted(WORKFLOWS.rglob("*.py"))
    assert files, "no workflow modules found"
    return files


def _violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        for name in names:
            if name.split(".")[0] in FORBIDDEN_MODULES:
                found.append(f"{path.name}:{node.lineno} imports {name}")
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute):
                base = func.value
                base_name = base.id if isinstance(base, ast.Name) else getattr(base, "attr", "")
                if (base_name, func.attr) in CLOCK_CALLS:
                    found.append(
                        f"{path.name}:{node.lineno} reads the clock ({base_name}.{func.attr})"
                    )
            elif isinstance(func, ast.Name) and func.id in IO_BUILTINS:
                found.append(f"{path.name}:{node.lineno} does I/O ({func.id})")
    return found


def test_workflows_import_no_adapters_and_never_read_the_clock() -> None:
    problems = [v for path in _sources() for v in _violations(path)]
    assert problems == []


def test_the_check_catches_what_it_forbids(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(
        "import asyncpg\nfrom services.engine import apply\nfrom datetime import datetime\n"
        "x = datetime.now()\nopen('f')\n"
    )
    problems = _violations(bad)
    assert len(problems) == 4, problems


SERVICES = WORKFLOWS.parent / "services"
WALL_CLOCK_CALLS = {c for c in CLOCK_CALLS if c[0] in ("datetime", "date")}


def _wall_clock_reads(path: Path) -> list[str]:
    """Calls that read the date or time of day (timeouts on ``time.monotonic`` are not that)."""
    return [v for v in _violations(path) if "reads the clock" in v
            and any(f"({b}.{a})" in v for b, a in WALL_CLOCK_CALLS)]  # fmt: skip


def test_services_read_the_time_only_through_the_clock() -> None:
    """The simulated clock must reach every deadline and every record: only the clock module
    reads the system time."""
    problems = [
        v
        for path in sorted(SERVICES.rglob("*.py"))
        if path != SERVICES / "clock.py"
        for v in _wall_clock_reads(path)
    ]
    assert problems == []
    assert _wall_clock_reads(SERVICES / "clock.py"), "the check no longer sees the clock's own read"
