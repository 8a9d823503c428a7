"""Sentences as data: a kind's events in a stock administrator's words, filled from the event.

A kind's ``words`` module keeps one template per event type, written with the event's own
payload fields (``{shares:,}``, ``{certificate[number]}``) and any the module derives from them.
``fill`` formats a template; an event it has no template for, or whose payload lacks a field the
template names, is said plainly by its type rather than with a blank or a wrong figure.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Any


def plainly(event_type: str) -> str:
    return f"{event_type.replace('_', ' ').capitalize()}."


def fill(templates: Mapping[str, str], event_type: str, fields: Mapping[str, Any]) -> str:
    template = templates.get(event_type)
    if template is None:
        return plainly(event_type)
    try:
        return template.format_map(fields)
    except (KeyError, IndexError, TypeError, ValueError):
        return plainly(event_type)


def shares(value: object) -> str:
    """A number of shares as the certificate writes it: ``1,000``; ``75.5`` for a fraction."""
    number = Decimal(str(value))
    whole = number == number.to_integral_value()
    return f"{int(number):,}" if whole else f"{number.normalize():,f}"


def plural(n: int, noun: str) -> str:
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"
