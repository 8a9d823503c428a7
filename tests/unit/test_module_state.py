"""``services/`` keeps no state in its modules and imports at the top: every part is built by
the composition root (``services.bootstrap``) and handed to what uses it.

- No import inside a function, but the few in ``ALLOWED_LATE_IMPORTS``, each for a reason that
  is not the order of imports (a circle is fixed, not hidden).
- No ``functools.cache`` / ``lru_cache`` (a cache is a part the container holds, like the terms
  catalog's parsed pinned terms), no ``global`` statement, and no module-level name bound to an
  empty dict, list or set for the process to fill at run time.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"

#: (module, what it imports) → why it is imported inside a function.
ALLOWED_LATE_IMPORTS = {
    ("services/embedded_postgres.py", "pgserver"): "an optional dependency (the embedded group), "
    "absent from the container image; only the embedded mode needs it",
}


def _modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SERVICES.rglob("*.py")):
        yield str(path.relative_to(SERVICES.parent)), ast.parse(path.read_text())


def _imported(node: ast.Import | ast.ImportFrom) -> str:
    if isinstance(node, ast.ImportFrom):
        return node.module or ""
    return ",".join(a.name for a in node.names)


def test_services_import_at_the_top_of_their_modules() -> None:
    late = set()
    for name, tree in _modules():
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                late |= {
                    (name, _imported(node))
                    for node in ast.walk(function)
                    if isinstance(node, ast.Import | ast.ImportFrom)
                }
    assert late == set(ALLOWED_LATE_IMPORTS), sorted(late ^ set(ALLOWED_LATE_IMPORTS))


_CONTAINERS = {"dict", "list", "set", "defaultdict", "OrderedDict", "WeakValueDictionary"}


def _empty_container(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict | ast.List | ast.Set):
        return not (getattr(value, "keys", None) or getattr(value, "elts", None))
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Name | ast.Attribute):
        called = value.func.id if isinstance(value.func, ast.Name) else value.func.attr
        return called in _CONTAINERS and (not value.args or called == "defaultdict")
    return False


def test_services_keep_no_state_in_their_modules() -> None:
    found = []
    for name, tree in _modules():
        for node in tree.body:
            value = node.value if isinstance(node, ast.Assign | ast.AnnAssign) else None
            if _empty_container(value):
                found.append(f"{name}:{node.lineno}: a module-level container filled at run time")
        for node in ast.walk(tree):
            if isinstance(node, ast.Global):
                found.append(f"{name}:{node.lineno}: global {', '.join(node.names)}")
            if isinstance(node, ast.Name | ast.Attribute):
                called = node.id if isinstance(node, ast.Name) else node.attr
                if called in {"lru_cache", "cache"}:  # per process; cached_property: per object
                    found.append(f"{name}:{node.lineno}: {called}")
    assert not found, found
