"""Typed command payloads: one pydantic model per command, unknown fields forbidden.

A payload that breaks its model is malformed whatever the workflow's state or terms: it is
refused with code ``invalid_payload`` (422 over HTTP) naming each field and what was expected.
Whether a well-formed payload is allowed is then for the kind's rules (409, citing a clause).
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    ValidationError,
)

from workflows.kernel import Refused

#: The rule a malformed payload breaks: the message contract, not a clause of the terms.
SCHEMA_RULE = "equityflow command schema"

M = TypeVar("M", bound=BaseModel)


class Payload(BaseModel):
    """The base of every command payload: a misspelt field is refused, never ignored."""

    model_config = ConfigDict(extra="forbid", frozen=True)


Shares = Annotated[int, Field(strict=True, gt=0, description="a whole number of shares above 0")]
Count = Annotated[int, Field(strict=True, ge=0)]
Amount = Annotated[
    Decimal,
    Field(ge=0, allow_inf_nan=False, description="an amount: a number or a decimal string"),
]
Instant = Annotated[AwareDatetime, Field(description="ISO 8601 with its UTC offset")]
#: Text that must say something: surrounding blanks are dropped, and nothing left is refused.
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
#: Text that may be blank (then taken as not given).
Note = Annotated[str, StringConstraints(strip_whitespace=True)]
Flag = StrictBool


class NoticeGiven(Payload):
    """How and when a written notice was given; its effective time comes from the terms."""

    method: Text = Field(description="a notice method the terms provide (personal, ...)")
    delivered_at: Instant | None = None
    deposited_at: Instant | None = Field(default=None, description="when mailed")
    dated: date | None = Field(default=None, description="the date written on the notice")


def field_path(loc: tuple[int | str, ...], prefix: str = "payload") -> str:
    return ".".join([prefix, *(str(part) for part in loc)]) if prefix else ".".join(map(str, loc))


def _say(model: type[BaseModel], error: Any) -> str:
    loc = tuple(error["loc"])
    path = field_path(loc)
    if error["type"] == "extra_forbidden":
        known = _fields_at(model, loc[:-1])
        hint = difflib.get_close_matches(str(loc[-1]), known, n=1)
        also = f"; did you mean {hint[0]!r}?" if hint else ""
        return f"{path} is not a field here (fields: {', '.join(known)}){also}"
    about = _description(model, loc)
    return f"{path}: {error['msg']}" + (f" ({about})" if about else "")


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The field names of the (nested) model at ``loc``, to list beside an unknown one."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(current, "model_fields", {}).get(part)
        if field is None:
            return []
        current = _model_in(field.annotation)
    return list(getattr(current, "model_fields", {}))


def _description(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    names = [part for part in loc if isinstance(part, str)]
    if not names:
        return ""
    parent: Any = model
    for part in names[:-1]:
        field = getattr(parent, "model_fields", {}).get(part)
        parent = _model_in(field.annotation) if field else None
    field = getattr(parent, "model_fields", {}).get(names[-1])
    return (field.description or "") if field else ""


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def read(model: type[M], raw: Any, command: str) -> M:
    """``raw`` as ``model``, or a refusal naming every field in error."""
    if not isinstance(raw, Mapping):
        raise Refused(SCHEMA_RULE, f"the {command} payload must be an object", "invalid_payload")
    try:
        return model.model_validate(dict(raw))
    except ValidationError as e:
        said = "; ".join(_say(model, err) for err in e.errors())
        raise Refused(SCHEMA_RULE, f"{command}: {said}", "invalid_payload") from None
