"""What a kind reads besides its own workflow: the register view's side of the kernel contract.

A kind that reads facts exports ``reads(state, data, message)``, which names them for one
message (from its payload and the workflow's data, never anything else), and a ``decide``
that takes them as ``facts=``. The engine loads what ``reads`` names inside the message's own
transaction, under the locks it needs, and hands it to ``decide`` read-only:

- ``GrantOf(grant_id)``: the grant's ``GrantFacts`` (``workflows.grants.facts``), under the
  grant's lock, with its termination's window and the claims of its exercises (each read from
  the exercise's own row, the reader's own left out): every workflow that changes what a grant's
  facts say (its termination, its exercises) reads them, so it holds that lock too, and two of
  them never decide on the same grant at once (an exercise sees the claims committed before it,
  and two exercises cannot together exceed what is exercisable);
- ``FmvOn(on)``: the Board's determination of fair market value in force on a day (the
  valuation register, FMP §4(a)(ii)), or None;
- ``PlanOf(plan)``: the plan's shares committed (RD Plan ¶4), under the plan's lock, so two
  grants cannot together overrun the reserve, and the shares of the plan the Company
  repurchased, from the share register under its lock (``workflows.shares.plans``);
- ``HoldersOfRecord(at)``: the company's share register as of ``at`` (``RegisterFacts``:
  holders of record, shares and certificates outstanding; ``workflows.shares.facts``), under the
  register's lock, or None while the company has opened none: what the lapse of the rights on
  more than 500 holders of record reads (FMP §6(c)(iii), §6(d)(vi)(1)). The company is the
  message's own: a kind never names another company's register.

``reads`` returns one need (the facts are its value, None when the register holds none) or a
mapping of names to needs (the facts are a mapping of the same names to values).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workflows.kernel import Command, Message


@dataclass(frozen=True)
class GrantOf:
    grant_id: str


@dataclass(frozen=True)
class FmvOn:
    on: date


@dataclass(frozen=True)
class PlanOf:
    plan: str


@dataclass(frozen=True)
class HoldersOfRecord:
    at: datetime


Need = GrantOf | FmvOn | PlanOf | HoldersOfRecord
Reads = Need | Mapping[str, Need] | None


def needs(reads: Reads) -> list[Need]:
    """Every need a ``reads`` answer names, in order."""
    if reads is None:
        return []
    if isinstance(reads, Mapping):
        return list(reads.values())
    return [reads]


def grant_named(data: Mapping[str, Any], message: Message, *stored: str) -> GrantOf | None:
    """The grant a workflow about a grant reads: the one its data names (under the first key of
    ``stored`` that holds one), else the one the command that starts it names (``grant``)."""
    grant = next((data[key] for key in stored if data.get(key)), None)
    if grant is None and isinstance(message, Command):
        grant = message.payload.get("grant")
    return GrantOf(grant) if isinstance(grant, str) and grant else None
