"""The workflow kinds the engine runs, by ``workflow_type``, and how pinned terms are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows import rofr
from workflows.kernel import WorkflowKind
from workflows.terms import Terms, as_terms

KINDS: Mapping[str, WorkflowKind] = {rofr.KIND: rofr}


def kind(workflow_type: str) -> WorkflowKind:
    try:
        return KINDS[workflow_type]
    except KeyError:
        raise KeyError(
            f"unknown workflow type {workflow_type!r}; known: {', '.join(sorted(KINDS))}"
        ) from None


def parse_terms(raw: Mapping[str, Any]) -> Terms:
    """Terms pinned into a workflow row (``TermsCatalog.raw``) back into ``Terms``."""
    return as_terms(raw)
