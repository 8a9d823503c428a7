"""``services/`` keeps no state in its modules and imports at the top: every part is built by
the composition root (``services.bootstrap``) and handed to what uses it.

- No import inside a function, but the few in ``ALLOWED_LATE_IMPORTS``, each for a reason that
  is not the order of imports (a circle is fixed, not hidden).
- No ``functools.cache`` / ``lru_cache`` (a cache of what the process reads is a part the
  container holds, like the terms catalog's parsed pinned terms), but the memos of pure
  functions in ``ALLOWED_MEMOS``; no ``global`` statement, and no module-level name bound to an
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


#: (module, line's name) → why a pure function's results are remembered for the process.
ALLOWED_MEMOS = {
    ("services/engine/events.py", "_routing_key"): "an event's routing key, a pure function of "
    "three names (a few hundred per deployment), bounded: percent-encoding the company id is "
    "worth doing once",
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
        for memo in _memos(tree):
            if (name, memo) not in ALLOWED_MEMOS:
                found.append(f"{name}: {memo} is remembered for the process (functools cache)")
    assert not found, found


def _memos(tree: ast.Module) -> Iterator[str]:
    """The names a module binds through ``functools.cache`` / ``lru_cache`` (per process;
    ``cached_property`` is per object and not counted)."""
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            if any(_mentions_cache(d) for d in getattr(node, "decorator_list", [])):
                yield node.name
            for inner in ast.walk(node):
                if inner is not node and isinstance(inner, ast.FunctionDef | ast.AsyncFunctionDef):
                    if any(_mentions_cache(d) for d in inner.decorator_list):
                        yield f"{node.name}.{inner.name}"
        elif isinstance(node, ast.Assign | ast.AnnAssign) and _mentions_cache(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            yield from (t.id for t in targets if isinstance(t, ast.Name))


def _mentions_cache(node: ast.AST | None) -> bool:
    return node is not None and any(
        (isinstance(n, ast.Name) and n.id in {"cache", "lru_cache"})
        or (isinstance(n, ast.Attribute) and n.attr in {"cache", "lru_cache"})
        for n in ast.walk(node)
    )
