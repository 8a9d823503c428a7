"""Every command of every kind as its own message schema, for validation and for the documents.

``CommandMessage`` carries any payload; the envelopes here narrow it to one command of one kind
with that command's payload model, so OpenAPI and AsyncAPI show each command's fields and a
body can be checked against a union discriminated on ``command``. Command names are therefore
unique across kinds (a test holds them to it).
"""

from __future__ import annotations

from functools import cache
from typing import Any, Literal, Union

from pydantic import BaseModel, Field, create_model

from workflows import registry
from workflows.messages import CommandMessage


def _camel(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


@cache
def command_envelopes(company_in_path: bool = False) -> dict[str, type[CommandMessage]]:
    """Command name → its message model. ``company_in_path``: company_id may be left out of the
    body (the HTTP path names it)."""
    extra: dict[str, Any] = {}
    if company_in_path:
        company = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
        extra["company_id"] = (str | None, company)
    envelopes: dict[str, type[CommandMessage]] = {}
    for workflow_type, kind in registry.KINDS.items():
        for name, payload in kind.COMMANDS.payloads().items():
            assert name not in envelopes, f"command {name!r} is in two kinds"
            envelopes[name] = create_model(
                f"{_camel(name)}{'Body' if company_in_path else 'Command'}",
                __base__=CommandMessage,
                __doc__=f"``{name}``, a command of a {workflow_type} workflow.",
                workflow_type=(Literal[workflow_type], ...),  # type: ignore[arg-type]
                command=(Literal[name], ...),  # type: ignore[arg-type]
                payload=(payload, ...),
                **extra,
            )
    return envelopes


def command_union(company_in_path: bool = False) -> Any:
    """A union of every command's message, discriminated on ``command``."""
    members: tuple[type[BaseModel], ...] = tuple(command_envelopes(company_in_path).values())
    return Union[members]  # noqa: UP007  # a runtime union of generated models
