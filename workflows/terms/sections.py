"""Each workflow kind's section of a terms document, registered by the kind itself.

A terms file has the parts every kind shares (calendar, notices) and a section per kind it
governs, under the kind's name. The kit registers a kind's section schema when the kind is
built (``workflows.kit.dispatch.Kind``), so the terms schema names no kind; a section no kind
registered is refused like any unknown field.
"""

from __future__ import annotations

from pydantic import BaseModel

#: kind name ("rofr") → the schema of its section.
SECTIONS: dict[str, type[BaseModel]] = {}


def register_section(kind: str, schema: type[BaseModel]) -> None:
    known = SECTIONS.setdefault(kind, schema)
    assert known is schema, f"two schemas for the {kind} section of the terms"
