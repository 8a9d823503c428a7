"""No import circles in ``workflows/`` or ``services/``: each module can be read, and changed,
from the bottom up, and any module can be the first one imported.

Importing ``a.b.c`` runs the packages ``a`` and ``a.b`` first, so a package's ``__init__`` that
imports its modules is an edge of the graph like any import: ``services.bus`` once gathered its
consumers there, and the notices service, which parses messages with ``services.bus.poison``,
could not be imported first. Imports under ``TYPE_CHECKING`` never run and are left out.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("workflows", "services")


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found[name] = path
    return found


def _type_checking_only(tree: ast.Module) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skipped |= {id(n) for statement in node.body for n in ast.walk(statement)}
    return skipped


def _imports(path: Path, modules: set[str]) -> set[str]:
    tree = ast.parse(path.read_text())
    skipped = _type_checking_only(tree)
    out = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.ImportFrom) and node.module in modules:
            subs = {f"{node.module}.{a.name}" for a in node.names} & modules
            # ``from package import module`` depends on the module, not on the package's body
            out |= subs if len(subs) == len(node.names) else subs | {node.module}
        elif isinstance(node, ast.Import):
            out |= {a.name for a in node.names} & modules
    return out


def _with_packages(imported: set[str], importer: str, modules: set[str]) -> set[str]:
    """Each imported module and the packages above it, which run first (not the importer's
    own packages: they are already running)."""
    out = set(imported)
    for name in imported:
        parts = name.split(".")
        for n in range(1, len(parts)):
            package = ".".join(parts[:n])
            if package in modules and not importer.startswith(package + "."):
                out.add(package)
    return out


def test_no_import_circles() -> None:
    modules = _modules()
    names = set(modules)
    graph = {m: _with_packages(_imports(p, names), m, names) - {m} for m, p in modules.items()}
    circles = []
    done: set[str] = set()

    def visit(m: str, path: list[str]) -> None:
        for n in sorted(graph[m]):
            if n in path:
                circles.append([*path[path.index(n) :], n])
            elif n not in done:
                visit(n, [*path, n])
        done.add(m)

    for m in sorted(graph):
        visit(m, [m])
    assert not circles, circles


def test_workflows_never_import_services() -> None:
    names = set(_modules())
    reach = {m: _imports(p, names) for m, p in _modules().items() if m.split(".")[0] == "workflows"}
    assert not {m: i for m, i in reach.items() if any(n.startswith("services") for n in i)}
