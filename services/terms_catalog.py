"""The terms catalog: the shipped presets plus any terms files a company drops into a folder.

A terms file is YAML (or JSON) named ``<terms id>.yaml``; its ``id`` must match the file name.
Every file is read and validated when the catalog is built, so a broken file is reported at
start-up with its path and the field in error, never halfway through a workflow. The catalog
never changes after that, so each document's canonical JSON (the text a new workflow pins) is
written once, there, and no message serialises terms again.

A workflow runs under the terms it pinned when it started, which the catalog may no longer hold
(a company's file changed since). The engine reads those from the workflow's row; the catalog
keeps each one parsed by its digest (``pinned``), so thousands of workflows that share a few
documents do not parse them again on every message. One catalog per process, built by
``services.bootstrap``: the parsed terms live as long as it, not in a module's globals.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import workflows.terms
from services.store.canonical import canonical_json
from workflows import registry
from workflows.terms import Terms, TermsError, parse_terms_text

PRESETS_DIR = Path(workflows.terms.__file__).resolve().parent / "presets"
SUFFIXES = (".yaml", ".yml", ".json")
#: Pinned documents kept parsed; past this many the oldest are dropped (a bound on memory).
PINNED_KEPT = 256


class UnknownTerms(LookupError):
    def __init__(self, terms_id: str, known: list[str]) -> None:
        self.terms_id = terms_id
        self.known = known
        super().__init__(f"unknown terms {terms_id!r}; known terms: {', '.join(known) or 'none'}")


class TermsCatalog:
    def __init__(self, extra_dirs: Sequence[Path] = ()) -> None:
        self._terms: dict[str, Terms] = {}
        self._files: dict[str, Path] = {}
        self._pinned: dict[str, str] = {}  # terms id -> canonical JSON of its document
        self._parsed: dict[str, Terms] = {}  # digest of a pinned document -> its terms
        for folder in (PRESETS_DIR, *(Path(d) for d in extra_dirs)):
            if not folder.is_dir():
                raise TermsError(str(folder), ["not a directory of terms files"])
            for path in sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES):
                self._load(path)

    def _load(self, path: Path) -> None:
        terms = parse_terms_text(path.read_text(encoding="utf-8"), source=str(path))
        registry.check_terms(terms, source=str(path))
        if terms.id != path.stem:
            raise TermsError(
                str(path), [f"id: {terms.id!r} must match the file name {path.stem!r}"]
            )
        if terms.id in self._terms:
            raise TermsError(
                str(path), [f"id: {terms.id!r} is already defined by {self._files[terms.id]}"]
            )
        self._terms[terms.id] = terms
        self._files[terms.id] = path
        self._pinned[terms.id] = canonical_json(terms.model_dump(mode="json"))

    def ids(self) -> list[str]:
        return sorted(self._terms)

    def get(self, terms_id: str) -> Terms:
        try:
            return self._terms[terms_id]
        except KeyError:
            raise UnknownTerms(terms_id, self.ids()) from None

    def pinned_json(self, terms_id: str) -> str:
        """The canonical JSON text a new workflow pins (``parse_terms`` reads it back)."""
        self.get(terms_id)
        return self._pinned[terms_id]

    def raw(self, terms_id: str) -> dict[str, Any]:
        """The terms as JSON data, exactly as a workflow pins them: a fresh copy on each call,
        so a caller may change it."""
        data: dict[str, Any] = json.loads(self.pinned_json(terms_id))
        return data

    def path(self, terms_id: str) -> Path:
        self.get(terms_id)
        return self._files[terms_id]

    def pinned(self, digest: str) -> Terms | None:
        """The terms a workflow pinned, by the digest of the document, if parsed before."""
        return self._parsed.get(digest)

    def keep_pinned(self, digest: str, document: Mapping[str, Any]) -> Terms:
        """Parse a pinned document (as a workflow row holds it) and keep it by its digest."""
        terms = registry.parse_terms(document)
        if len(self._parsed) >= PINNED_KEPT:
            del self._parsed[next(iter(self._parsed))]
        self._parsed[digest] = terms
        return terms
