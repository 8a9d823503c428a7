"""Reading payload fields the rules need, after the model checked their shape: a bad field is
a refusal that names the field and the rule."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from workflows.kernel import Refused


def _bad(rule: str, reason: str) -> Refused:
    return Refused(rule, reason, "invalid_payload")


def text(data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload.") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _bad(rule, f"{prefix}{key} is required (non-empty text)")
    return value.strip()


def optional_text(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return value.strip() if isinstance(value, str) else ""


def count(data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload.") -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise _bad(rule, f"{prefix}{key} must be a whole number of shares above 0")
    return value


def flag(data: Mapping[str, Any], key: str, rule: str) -> bool:
    value = data.get(key, False)
    if not isinstance(value, bool):
        raise _bad(rule, f"payload.{key} must be true or false")
    return value


def amount(data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload.") -> Decimal:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise _bad(rule, f"{prefix}{key} must be an amount (a number or a decimal string)")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise _bad(rule, f"{prefix}{key} must be an amount, not {value!r}") from None
    if not result.is_finite() or result < 0:
        raise _bad(rule, f"{prefix}{key} must be a finite amount of 0 or more")
    return result


def optional_amount(
    data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload."
) -> Decimal | None:
    return None if data.get(key) is None else amount(data, key, rule, prefix)


def optional_instant(
    data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload."
) -> datetime | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise _bad(rule, f"{prefix}{key} is not an ISO 8601 time: {value!r}") from None
    if not isinstance(value, datetime):
        raise _bad(rule, f"{prefix}{key} must be an ISO 8601 time")
    if value.tzinfo is None:
        raise _bad(rule, f"{prefix}{key} must carry its UTC offset or zone")
    return value


def instant(data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload.") -> datetime:
    value = optional_instant(data, key, rule, prefix)
    if value is None:
        raise _bad(rule, f"{prefix}{key} is required (an ISO 8601 time with its offset)")
    return value


def optional_day(
    data: Mapping[str, Any], key: str, rule: str, prefix: str = "payload."
) -> date | None:
    value = data.get(key)
    if value is None:
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise _bad(rule, f"{prefix}{key} must be a date (YYYY-MM-DD), not {value!r}") from None


def choice(data: Mapping[str, Any], key: str, rule: str, options: tuple[str, ...]) -> str:
    value = data.get(key)
    if value not in options:
        raise _bad(rule, f"payload.{key} must be one of {', '.join(options)}; got {value!r}")
    assert isinstance(value, str)
    return value


def mapping(data: Mapping[str, Any], key: str, rule: str) -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise _bad(rule, f"payload.{key} is required (an object)")
    return value
