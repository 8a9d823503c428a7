"""How a kind reads the time an act took effect (``Kind.effective``): acts are judged by it.

A notice takes effect as the notice rules of the terms say (``workflows.notices``); an act
with a date of its own (a sale, a closing, a lapse event) by that date; any other act when it
is entered. A reader is called with the context and the command's payload read into its model
(``reader(ctx, cmd)``), before any rule runs: it only reads.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

EffectiveTime = Callable[[Any, Any], datetime]


def by_notice(kind: str, field: str = "notice") -> EffectiveTime:
    """The effective time of the notice in ``payload.<field>`` (of the notice kind ``kind``)."""

    def read(ctx: Any, cmd: Any) -> datetime:
        return ctx.notice(kind, ctx.clause, getattr(cmd, field)).at  # type: ignore[no-any-return]

    return read


def by_date(key: str) -> EffectiveTime:
    """The instant at ``payload.<key>`` (when the sale, payment or event happened)."""

    def read(ctx: Any, cmd: Any) -> datetime:
        return ctx.fact_time(key, getattr(cmd, key), ctx.clause)  # type: ignore[no-any-return]

    return read


def by_optional_date(key: str) -> EffectiveTime:
    """The instant at ``payload.<key>`` if given, else when the act is entered."""

    def read(ctx: Any, cmd: Any) -> datetime:
        when = getattr(cmd, key)
        if when is None:
            return ctx.now  # type: ignore[no-any-return]
        return ctx.fact_time(key, when, ctx.clause)  # type: ignore[no-any-return]

    return read
