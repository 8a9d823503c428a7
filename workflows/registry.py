"""The workflow kinds the engine runs, by ``workflow_type``, and how pinned terms are read."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows import exercise, grants, rofr, termination
from workflows.kernel import WorkflowKind
from workflows.terms import Terms, TermsError, as_terms

KINDS: Mapping[str, WorkflowKind] = {
    rofr.KIND: rofr,
    grants.KIND: grants,
    termination.KIND: termination,
    exercise.KIND: exercise,
}


def kind(workflow_type: str) -> WorkflowKind:
    try:
        return KINDS[workflow_type]
    except KeyError:
        raise KeyError(
            f"unknown workflow type {workflow_type!r}; known: {', '.join(sorted(KINDS))}"
        ) from None


def check_terms(terms: Terms, *, source: str = "terms") -> None:
    """What the terms schema cannot know alone: each kind's section names only that kind's
    commands in ``parties`` (the kind's command table is the one list of its commands)."""
    problems = []
    for workflow_type, k in KINDS.items():
        section = getattr(terms, workflow_type, None)
        parties = getattr(section, "parties", {})
        unknown = sorted(set(parties) - set(k.COMMANDS.names))
        if unknown:
            problems.append(
                f"{workflow_type}.parties: unknown commands {unknown}; "
                f"known: {list(k.COMMANDS.names)}"
            )
    if problems:
        raise TermsError(source, problems)


def parse_terms(raw: Mapping[str, Any]) -> Terms:
    """Terms pinned into a workflow row (``TermsCatalog.raw``) back into ``Terms``."""
    return as_terms(raw)
