"""The container build and compose file, as a user meets them: a build context that carries the
sources and nothing else, and services that start once what they need is ready."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from docker.utils.build import exclude_paths

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "deploy" / "Dockerfile"


def _context(tree: list[str], root: Path) -> set[str]:
    """The files Docker would send, for a checkout holding ``tree``."""
    (root / ".dockerignore").write_text((REPO / ".dockerignore").read_text())
    for name in tree:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("")
    patterns = [
        line.strip()
        for line in (root / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = exclude_paths(str(root), patterns)
    return {p for p in sent if (root / p).is_file()}


def test_the_build_context_carries_what_the_dockerfile_copies_and_no_local_state(
    tmp_path: Path,
) -> None:
    copied = [
        source
        for line in DOCKERFILE.read_text().splitlines()
        if line.startswith("COPY ") and "--from" not in line
        for source in line.split()[1:-1]
    ]
    sources = ["workflows/kernel.py", "workflows/terms/presets/x.yaml", "services/cli.py"]
    local_state = [
        ".venv/bin/python",
        ".equityflow/postgres/PG_VERSION",  # the embedded server's data, its owner's only
        ".git/HEAD",
        "services/__pycache__/cli.cpython-311.pyc",
        ".pytest_cache/README.md",
        "tests/test_x.py",
        ".env",
    ]
    files = ["pyproject.toml", "uv.lock", "README.md", *sources, *local_state]
    sent = _context(files, tmp_path)
    assert {"pyproject.toml", "uv.lock", "README.md", *sources} <= sent
    assert all(any(f == c or f.startswith(c.rstrip("/") + "/") for f in sent) for c in copied)
    assert not sent & set(local_state)


def _compose() -> dict[str, Any]:
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())  # type: ignore[no-any-return]


def test_each_service_starts_once_postgres_and_rabbitmq_are_healthy_and_migrated() -> None:
    services = _compose()["services"]
    assert services["postgres"]["healthcheck"]["test"]
    assert services["rabbitmq"]["healthcheck"]["test"]
    ours = {name: s for name, s in services.items() if "build" in s}
    assert set(ours) == {"migrate", "engine", "deadlines", "notices", "relay", "api"}
    assert ours["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    for name, service in ours.items():
        if name != "migrate":
            assert service["depends_on"] == {
                "postgres": {"condition": "service_healthy"},
                "rabbitmq": {"condition": "service_healthy"},
                "migrate": {"condition": "service_completed_successfully"},
            }, name


def test_the_image_installs_dependencies_before_the_sources_without_dev_tools() -> None:
    steps = [line for line in DOCKERFILE.read_text().splitlines() if re.match(r"(RUN|COPY) ", line)]
    syncs = [i for i, step in enumerate(steps) if "uv sync" in step]
    first_source = next(i for i, step in enumerate(steps) if "COPY services" in step)
    assert len(syncs) == 2 and syncs[0] < first_source < syncs[1]
    assert "--no-install-project" in steps[syncs[0]]
    assert all("--frozen" in steps[i] and "--no-default-groups" in steps[i] for i in syncs)
