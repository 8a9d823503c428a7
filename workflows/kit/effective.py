"""How a kind reads the time an act took effect (``Kind.effective``): acts are judged by it.

A notice takes effect as the notice rules of the terms say (``workflows.notices``); an act
with a date of its own (a sale, a closing, a lapse event) by that date; any other act when it
is entered.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

EffectiveTime = Callable[[Any], datetime]


def by_notice(kind: str) -> EffectiveTime:
    """The effective time of the notice in ``payload.notice`` (of the notice kind ``kind``)."""

    def read(ctx: Any) -> datetime:
        return ctx.notice(kind, ctx.clause).at  # type: ignore[no-any-return]

    return read


def by_date(key: str) -> EffectiveTime:
    """The instant at ``payload.<key>`` (when the sale, payment or event happened)."""

    def read(ctx: Any) -> datetime:
        return ctx.fact_time(key, ctx.clause)  # type: ignore[no-any-return]

    return read


def by_optional_date(key: str) -> EffectiveTime:
    """The instant at ``payload.<key>`` if given, else when the act is entered."""

    def read(ctx: Any) -> datetime:
        if ctx.payload.get(key) is None:
            return ctx.now  # type: ignore[no-any-return]
        return ctx.fact_time(key, ctx.clause)  # type: ignore[no-any-return]

    return read
