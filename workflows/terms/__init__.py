"""Contract terms as data: parse and validate a terms document (pure: text or dict in).

Reading terms files from disk is the job of ``services.terms_catalog``; this package only
turns a dict or a YAML/JSON text into a validated ``Terms``, and says which field is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import yaml
from pydantic import ValidationError

from workflows.terms.base import Cited
from workflows.terms.schema import Effectiveness, NoticeMethod, Terms

__all__ = [
    "Cited",
    "Effectiveness",
    "NoticeMethod",
    "Terms",
    "TermsError",
    "as_terms",
    "parse_terms",
    "parse_terms_text",
]


class TermsError(ValueError):
    """A terms document that does not validate; the message names the source and each field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: invalid terms: " + "; ".join(problems))


def _field(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(p) for p in loc) or "(document)"


def parse_terms(raw: Mapping[str, Any], *, source: str = "terms") -> Terms:
    try:
        return Terms.model_validate(dict(raw))
    except ValidationError as e:
        problems = [f"{_field(err['loc'])}: {err['msg']}" for err in e.errors()]
        raise TermsError(source, problems) from None


def parse_terms_text(text: str, *, source: str = "terms") -> Terms:
    """Parse YAML (or JSON, a subset of YAML) text into ``Terms``."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as e:
        raise TermsError(source, [f"not valid YAML: {e}"]) from None
    if not isinstance(raw, dict):
        raise TermsError(source, ["the document must be a mapping of fields"])
    return parse_terms(raw, source=source)


@lru_cache(maxsize=256)
def _parse_canonical(canonical: str) -> Terms:
    return parse_terms(json.loads(canonical), source="pinned terms")


def as_terms(terms: Terms | Mapping[str, Any]) -> Terms:
    """``Terms`` as is, or pinned terms (a dict) parsed once per distinct content."""
    if type(terms) is Terms or isinstance(terms, Terms):  # the first test skips the ABC's
        return terms
    return _parse_canonical(json.dumps(terms, sort_keys=True, default=str))
