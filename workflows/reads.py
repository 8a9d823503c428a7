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
  grants cannot together overrun the reserve;
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
