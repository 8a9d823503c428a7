"""The register view: the facts a kind declares it reads (``workflows.reads``), loaded in the
batch's transaction under the locks they need, and handed to ``decide`` read-only.

Before the batch locks anything, ``ask`` learns what each message will read: its kind's
``reads`` on the workflow as it is (``register_view.peek``, unlocked) and on the message. The
locks of the facts (a grant's id; a plan's derived id) join the batch's own workflow locks in
one statement, in one id order (``unit_load.lock_and_load``), so no two engine transactions
can wait for each other in a circle. ``load`` then reads the facts, under those locks.

At planning, a message's facts are built from what was loaded, overlaid with what earlier
messages of the batch changed (a grant granted, a termination started in the same batch).
What a message reads but was not asked for before the locks (its workflow named a grant only
in this batch, say) is not guessed: the message fails alone (``NotAsked``) and is applied again
in a later batch, which asks for it.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from services.ids import derived_id, share_register_id
from services.store import register_view as rv
from services.store.db import Connection
from workflows.grants.facts import Claim, FairMarketValue, GrantFacts, PlanFacts
from workflows.grants.register import claim_of, exercised_shares, facts_of, shares_committed
from workflows.messages import CommandMessage, TimerMessage
from workflows.reads import FmvOn, GrantOf, HoldersOfRecord, Need, Reads, needs
from workflows.shares.facts import RegisterFacts
from workflows.shares.plans import returned
from workflows.shares.register import facts_of as register_facts

Message = CommandMessage | TimerMessage
WINDOW = "exercise_window_end"  # the termination's window deadline, in its data


class NotAsked(Exception):
    """A message reads a fact the batch did not lock before deciding: retried alone."""


def plan_lock(company_id: str, plan: str) -> UUID:
    """The lock of a plan's reserve: an id beside the workflow ids, in the same order."""
    return UUID(derived_id("plan-lock", company_id, plan))


def register_of(company_id: str) -> UUID:
    """The company's share register: its id, and so its lock (the lock its own messages take:
    a count read under it cannot change until the reader's batch commits)."""
    return UUID(share_register_id(company_id))


def _grant_uuid(grant_id: str) -> UUID | None:
    try:
        return uuid.UUID(grant_id)
    except ValueError:
        return None  # no grant has such an id: the register holds nothing for it


def reads_of(kind: Any, state: str | None, data: Any, m: Message) -> Reads:
    reads: Callable[..., Reads] | None = getattr(kind, "reads", None)
    return None if reads is None else reads(state, data or {}, m.to_domain())


@dataclass
class Asked:
    """What a batch's messages will read, keyed by company, and the locks that guards them."""

    grants: set[tuple[str, UUID]] = field(default_factory=set)
    fmv: set[tuple[str, date]] = field(default_factory=set)
    plans: set[tuple[str, str]] = field(default_factory=set)
    registers: set[str] = field(default_factory=set)  # companies whose share register is read

    def add(self, company: str, need: Need) -> None:
        if isinstance(need, HoldersOfRecord):
            self.registers.add(company)
        elif isinstance(need, GrantOf):
            gid = _grant_uuid(need.grant_id)
            if gid is not None:
                self.grants.add((company, gid))
        elif isinstance(need, FmvOn):
            self.fmv.add((company, need.on))
        else:
            self.plans.add((company, need.plan))

    def has(self, company: str, need: Need) -> bool:
        if isinstance(need, HoldersOfRecord):
            return company in self.registers
        if isinstance(need, GrantOf):
            gid = _grant_uuid(need.grant_id)
            return gid is None or (company, gid) in self.grants
        if isinstance(need, FmvOn):
            return (company, need.on) in self.fmv
        return (company, need.plan) in self.plans

    def locks(self) -> list[UUID]:
        return (
            [g for _, g in self.grants]
            + [plan_lock(c, p) for c, p in self.plans]
            # a plan's repurchased shares are the share register's (RD Plan ¶4): read under its lock
            + [register_of(c) for c in self.registers | {c for c, _ in self.plans}]
        )


async def ask(c: Connection, messages: Sequence[Message], kind_of: Callable[[str], Any]) -> Asked:
    """What the batch's messages will read (one unlocked read, only if some kind reads)."""
    asked = Asked()
    readers = [m for m in messages if getattr(_kind(kind_of, m), "reads", None) is not None]
    if not readers:
        return asked
    rows = await rv.peek(c, [m.workflow_id for m in readers])
    for m in readers:
        row = rows.get(m.workflow_id)
        mine = row is not None and row["company_id"] == m.company_id
        state, data = (row["state"], row["data"]) if mine and row else (None, {})
        try:
            wanted = needs(reads_of(_kind(kind_of, m), state, data, m))
        except Exception:  # a message ``reads`` cannot read: ``decide`` refuses it
            continue
        for need in wanted:
            asked.add(m.company_id, need)
    return asked


def _kind(kind_of: Callable[[str], Any], m: Message) -> Any:
    try:
        return kind_of(m.workflow_type)
    except (KeyError, LookupError, ValueError):
        return None


@dataclass
class Register:
    """The facts loaded for a batch, and how each message's are built from them."""

    asked: Asked
    grants: Mapping[UUID, asyncpg.Record]
    fmv: Mapping[tuple[str, date], dict[str, Any]]
    plans: Mapping[tuple[str, str], asyncpg.Record]
    registers: Mapping[UUID, asyncpg.Record] = field(default_factory=dict)

    def facts(self, reads: Reads, company: str, views: Mapping[UUID, Any], reader: UUID) -> Any:
        """The facts ``reads`` names, as ``decide`` takes them; ``views``: the batch's
        workflows as the messages before this one left them. ``reader``'s own row is not a
        fact about it (a termination replaying its own acts reads its grant as it was)."""
        for need in needs(reads):
            if not self.asked.has(company, need):
                raise NotAsked(f"{need} was not loaded before the batch's locks were taken")
        if reads is None:
            return None
        if isinstance(reads, Mapping):
            return {name: self._value(need, company, views, reader) for name, need in reads.items()}
        return self._value(reads, company, views, reader)

    def _value(self, need: Need, company: str, views: Mapping[UUID, Any], reader: UUID) -> Any:
        if isinstance(need, GrantOf):
            return self._grant(need.grant_id, company, views, reader)
        if isinstance(need, FmvOn):
            found = self.fmv.get((company, need.on))
            return None if found is None else FairMarketValue.model_validate(found)
        if isinstance(need, HoldersOfRecord):
            return self._register(need.at, company, views)
        return self._plan(need.plan, company, views)

    def _register(
        self, at: datetime, company: str, views: Mapping[UUID, Any]
    ) -> RegisterFacts | None:
        """The register as the batch's earlier messages left it, else as loaded; None while
        the company has opened none."""
        rid = register_of(company)
        view, row = views.get(rid), self.registers.get(rid)
        if view is not None and view.row.workflow_type == "share_register":
            state, data = view.row.state, view.data
        elif row is not None:
            state, data = row["state"], row["data"]
        else:
            return None
        return None if state in ("", "new") else register_facts(data or {}, at)

    def _grant(
        self, grant_id: str, company: str, views: Mapping[UUID, Any], reader: UUID
    ) -> GrantFacts | None:
        gid = _grant_uuid(grant_id)
        row = self.grants.get(gid) if gid is not None else None
        view = views.get(gid) if gid is not None else None
        if view is not None and view.row.workflow_type == "grant":
            company_of, state, data = view.row.company_id, view.row.state, view.data
        elif row is not None:
            company_of, state, data = row["company_id"], row["state"], row["data"]
        else:
            return None
        if company_of != company or state in ("", "new"):
            return None  # another company's grant is not there for this one
        termination = _termination(grant_id, company, views, reader)
        if termination is None and row is not None and row["termination_id"] != reader:
            termination = row["termination"]
        claims = _claims(grant_id, company, row, views, reader)
        return _grant_facts(grant_id, state, data, termination, claims, str(reader))

    def _plan(self, plan: str, company: str, views: Mapping[UUID, Any]) -> PlanFacts:
        """The plan's shares committed and those of it the Company repurchased (RD Plan ¶4), as
        the batch's earlier messages left its grants and the share register, else as loaded."""
        row = self.plans.get((company, plan))
        in_batch = sum(
            shares_committed(v.row.state, v.data)
            for v in views.values()
            if v.row.workflow_type == "grant"
            and v.row.company_id == company
            and (v.data or {}).get("plan") == plan
        )
        committed = (row["committed"] if row else 0) + in_batch
        register = views.get(register_of(company))
        if register is not None and register.row.workflow_type == "share_register":
            repurchased = returned(register.data or {}, plan)
        else:
            repurchased = row["repurchased"] if row else 0
        return PlanFacts(
            adopted_on=row["board_adopted_on"] if row else None,
            shareholders_approved_on=row["shareholders_approved_on"] if row else None,
            shares_committed=int(committed),
            shares_repurchased=max(int(repurchased), 0),
        )


def _termination(grant_id: str, company: str, views: Mapping[UUID, Any], reader: UUID) -> Any:
    for v in views.values():
        row = v.row
        if row.workflow_id == reader:
            continue
        if (row.workflow_type, row.company_id) == ("termination", company) and (v.data or {}).get(
            "grant"
        ) == grant_id:
            return v.data
    return None


def _claims(
    grant_id: str, company: str, row: Any, views: Mapping[UUID, Any], reader: UUID
) -> list[Claim]:
    """The claims of the grant's exercises other than ``reader``: as committed (read under the
    grant's lock), then as the batch's earlier messages left them."""
    found: dict[str, tuple[str, Any]] = {}
    for e in (row["exercises"] if row is not None else None) or []:
        found[e["exercise"]] = (e["state"], {"claim": e["claim"]})
    for v in views.values():
        r = v.row
        if (r.workflow_type, r.company_id) == ("option_exercise", company) and (v.data or {}).get(
            "grant"
        ) == grant_id:
            found[str(r.workflow_id)] = (r.state, v.data)
    found.pop(str(reader), None)
    claims = (claim_of(exercise, state, data) for exercise, (state, data) in found.items())
    return sorted((c for c in claims if c is not None), key=lambda c: (c.on, c.exercise))


def _grant_facts(
    grant_id: str, state: str, data: Any, termination: Any, claims: list[Claim], reader: str
) -> GrantFacts:
    ended = window_at = derivation = None
    if termination and termination.get("terminated_on"):
        ended = date.fromisoformat(termination["terminated_on"])
        window = (termination.get("deadlines") or {}).get(WINDOW)
        closed = termination.get("closed")
        if closed:
            window_at, derivation = datetime.fromisoformat(closed["at"]), closed.get("derivation")
        elif window:
            window_at, derivation = datetime.fromisoformat(window["at"]), window.get("derivation")
    return facts_of(
        grant_id, data, state=state, exercised=exercised_shares(data, claims, reader),
        service_ended_on=ended, window_ends_at=window_at, window_derivation=derivation,
        claims=claims,
    )  # fmt: skip


async def load(c: Connection, asked: Asked, batch_ids: Iterable[UUID]) -> Register:
    """Read what ``asked`` names, under the locks the batch holds."""
    return Register(
        asked,
        await rv.grants(c, [g for _, g in asked.grants]),
        await rv.fmv_in_force(c, sorted(asked.fmv)),
        await rv.plans(
            c, [(co, p, register_of(co)) for co, p in sorted(asked.plans)], sorted(set(batch_ids))
        ),
        await rv.registers(c, [register_of(company) for company in asked.registers]),
    )
