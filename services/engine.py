"""The engine: one message, one transaction (docs/design.md, "The path of a command").

    BEGIN
      INSERT inbox                 -- a message id already recorded: return what it got, stop
      SELECT workflow FOR UPDATE   -- one writer per workflow, whichever replica runs this
      decide(...)                  -- pure: new state, events, timers to set and cancel
      UPDATE workflow; INSERT history (hash-chained); INSERT outbox; set/cancel timers
    COMMIT

A refusal (from ``decide`` or from the engine's own checks) records the message as refused,
puts a ``command_refused`` event in the outbox and changes nothing else. A workflow of another
company is "not found", and so is one that does not exist (a command that cannot start one):
the two answers are the same, so an id's existence is never revealed.

Commands and timer messages are separate key spaces of the inbox: a command can never use up
the message id of a timer. A timer message is applied only for a timer the deadlines service
has fired (``services.engine_timers.check_timer``); any other is ignored, recording nothing.
A company's registered terms govern its workflows: a start command naming other terms is
refused (``terms_mismatch``), and a command for a company nobody registered is refused
(``unregistered_company``): commands never create companies.

Such a command is answered but never recorded: its transaction is rolled back, so no inbox,
history or ``command_refused`` event is kept for a company that is not there. The bus consumer
dead-letters it with its reason, and HTTP answers 404.
"""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import asyncpg

from services.clock import Clock
from services.engine_events import EventLog, json_safe
from services.engine_replies import Outcome, recorded_outcome
from services.engine_timers import cancel_timers, check_timer, mark_timer_applied, plan_timers
from services.store.chain import GENESIS
from services.store.companies import company_exists, registered_terms
from services.store.transition import Transition, write_outbox, write_transition
from workflows.kernel import Decision, Refused, refusal_status
from workflows.messages import CommandMessage, TimerMessage

log = logging.getLogger(__name__)

ENGINE_RULE = "equityflow engine"
_RETRIES = 8
_LOCK = (
    "SELECT workflow_id, company_id, workflow_type, terms_id, md5(terms::text) AS terms_digest, "
    "state, data, version, final, head_hash, updated_at FROM workflows "
    "WHERE workflow_id = $1 FOR UPDATE"
)
# Two first commands for one id both find no row: this lock on the id makes the second wait,
# then read the row the first created (each statement takes a new snapshot).
_LOCK_NEW_ID = "SELECT pg_advisory_xact_lock(hashtextextended($1::uuid::text, 0))"


class _Ignored(Exception):
    """A timer message that is not the deadlines service's for a due timer: nothing is kept."""


class _Unrecorded(Exception):
    """A refusal for a company that does not exist: raised to roll the transaction back."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.refusal)
        self.outcome = outcome


class TermsSource(Protocol):
    def get(self, terms_id: str) -> Any: ...
    def pinned_json(self, terms_id: str) -> str: ...


async def apply(
    pool: asyncpg.Pool,
    message: CommandMessage | TimerMessage,
    clock: Clock,
    catalog: TermsSource,
) -> Outcome:
    """Apply one message exactly once; retried on deadlock or serialization failure."""
    # The clock is read before a connection is taken: a simulated clock needs a connection of
    # its own, and a pool whose every connection waits on one workflow's row lock must never
    # also wait for a free connection to read the time.
    now = await clock.now()
    for attempt in range(_RETRIES):
        try:
            async with pool.acquire() as connection, connection.transaction():
                outcome = await _Transaction(connection, message, now, catalog).run()
        except _Unrecorded as unrecorded:
            outcome = unrecorded.outcome
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == _RETRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
            continue
        _log_outcome(message, outcome)
        return outcome
    raise AssertionError("unreachable")


# Parsed pinned terms by digest: thousands of workflows share a few terms documents, so each
# is parsed once per process instead of being read and validated on every message.
_PARSED_TERMS: dict[str, Any] = {}


async def _pinned_terms(connection: asyncpg.Connection, row: asyncpg.Record) -> Any:
    from workflows import registry

    digest = row["terms_digest"]
    if digest not in _PARSED_TERMS:
        raw = await connection.fetchval(
            "SELECT terms FROM workflows WHERE workflow_id = $1", row["workflow_id"]
        )
        if len(_PARSED_TERMS) >= 256:
            _PARSED_TERMS.clear()
        _PARSED_TERMS[digest] = registry.parse_terms(raw)
    return _PARSED_TERMS[digest]


class _Transaction:
    def __init__(
        self,
        connection: asyncpg.Connection,
        message: CommandMessage | TimerMessage,
        now: datetime,
        catalog: TermsSource,
    ) -> None:
        self.c, self.message, self.now, self.catalog = connection, message, now, catalog
        self.company, self.workflow_id = message.company_id, message.workflow_id
        self.row: asyncpg.Record | None = None  # the workflow, if this company has it

    async def run(self) -> Outcome:
        m = self.message
        fresh = await self.c.fetchval(
            "INSERT INTO inbox (company_id, kind, message_id, workflow_id, outcome, received_at) "
            "VALUES ($1, $2, $3, $4, 'applied', $5) ON CONFLICT DO NOTHING RETURNING true",
            self.company,
            m.kind,
            m.message_id,
            self.workflow_id,
            self.now,
        )
        if not fresh:
            if isinstance(m, TimerMessage):
                # Recorded already, perhaps before timers had an applied status.
                await mark_timer_applied(self.c, m, self.now)
            return await recorded_outcome(self.c, m)
        try:
            return await self._decide_and_write()
        except Refused as refusal:
            return await self._refuse(refusal)
        except _Ignored as ignored:
            # Forget the message id: the genuine timer message must still find it unused.
            await self.c.execute(
                "DELETE FROM inbox WHERE company_id = $1 AND kind = $2 AND message_id = $3",
                self.company,
                m.kind,
                m.message_id,
            )
            state, version = self._visible()
            return Outcome("stale", self.workflow_id, state, version, note=str(ignored))

    async def _lock(self) -> asyncpg.Record | None:
        row = await self.c.fetchrow(_LOCK, self.workflow_id)
        if row is None:
            await self.c.execute(_LOCK_NEW_ID, self.workflow_id)
            row = await self.c.fetchrow(_LOCK, self.workflow_id)
        return row

    async def _decide_and_write(self) -> Outcome:
        from workflows import registry

        m = self.message
        if isinstance(m, TimerMessage):
            row = await self.c.fetchrow(_LOCK, self.workflow_id)
            # Before anything is recorded: a timer of this company's workflow, fired and due.
            check = await check_timer(self.c, m, self.now)
            if check.verdict == "ignore":
                if row is not None and row["company_id"] == self.company:
                    self.row = row
                raise _Ignored(check.reason)
            # Whatever follows (applied, refused, stale), this message has reached the engine:
            # its timer is no longer re-fired.
            await mark_timer_applied(self.c, m, self.now)
        else:
            row = await self._lock()
        if row is not None and row["company_id"] != self.company:
            raise _not_found(self.workflow_id, self.company)
        self.row = row
        if row is not None and row["workflow_type"] != m.workflow_type:
            raise Refused(
                ENGINE_RULE,
                f"workflow {self.workflow_id} is a {row['workflow_type']} workflow, "
                f"not {m.workflow_type}",
                "wrong_workflow_type",
            )
        if isinstance(m, TimerMessage):
            if row is None:  # never so: a fired timer has its workflow (a foreign key)
                raise _not_found(self.workflow_id, self.company)
            if check.verdict == "cancelled":
                return await self._stale()
        # A command reaches a workflow in a final state too: an act that took effect before
        # the facts that ended it is judged in its place (the kind refuses any other).
        try:
            kind = registry.kind(m.workflow_type)
        except (KeyError, LookupError, ValueError) as e:
            raise Refused(
                ENGINE_RULE, f"unknown workflow type {m.workflow_type!r}", "unknown_workflow_type"
            ) from e
        try:
            message_json = json_safe(m.model_dump(mode="json"))
        except ValueError as e:
            raise Refused(ENGINE_RULE, f"the payload is not JSON: {e}", "malformed") from e
        if row is None:
            pinned = await self._terms_to_pin()
            terms, state, data, now = self.catalog.get(pinned[0]), None, {}, self.now
        else:
            pinned = None
            terms = await _pinned_terms(self.c, row)
            state, data = row["state"], row["data"]
            # A clock read on another replica may lag the last transition; history never
            # goes back in time.
            now = max(self.now, row["updated_at"])
        try:
            decision = kind.decide(state, data, m.to_domain(), now, terms)
        except Refused as refused:
            if row is None and refused.code == "wrong_state":
                # "Cannot do this before the workflow starts" would tell an id that exists in
                # another company (not found) from one that exists nowhere: the same answer.
                raise _not_found(self.workflow_id, self.company) from refused
            raise
        return await self._write(decision, now, message_json, pinned)

    async def _terms_to_pin(self) -> tuple[str, str]:
        """The terms a new workflow pins: the company's registered ones, which the party
        sending the command may not override (a command naming other terms is refused). A
        company that has registered none starts nothing: a command never creates a company."""
        named = getattr(self.message, "terms", None)
        if named is not None:
            self._known_terms(named)  # an unknown id is a malformed command, whoever sends it
        registered = await registered_terms(self.c, self.company)
        if registered is not None and named is not None and named != registered:
            raise Refused(
                ENGINE_RULE,
                f"company {self.company} is registered under {registered}; "
                f"the command names {named}",
                "terms_mismatch",
            )
        if registered is None:
            # A command never creates a company: only an administrator registers one.
            raise Refused(
                ENGINE_RULE,
                f"no company {self.company} is registered: an administrator registers it "
                f"first (PUT /api/v1/companies/{self.company} with an operator key, or "
                "equityflow register-company), then its workflows start under its terms",
                "unregistered_company",
            )
        return registered, self._known_terms(registered)

    def _known_terms(self, terms_id: str) -> str:
        """The canonical JSON of the terms, serialised once when the catalog was loaded."""
        try:
            return self.catalog.pinned_json(terms_id)
        except LookupError as e:  # the catalog's "unknown terms 'x'; known terms: ..."
            raise Refused(ENGINE_RULE, str(e), "unknown_terms") from e
        except Exception as e:  # a terms file in error
            raise Refused(ENGINE_RULE, f"terms {terms_id!r}: {e}", "unknown_terms") from e

    async def _write(
        self,
        decision: Decision,
        now: datetime,
        message_json: Any,
        pinned: tuple[str, str] | None,
    ) -> Outcome:
        m, row = self.message, self.row
        version = (row["version"] if row else 0) + 1
        data = json_safe(dict(decision.data))
        log = self._log(now)
        for event in decision.events:
            log.add(event.type, event.payload, version)
        # A final workflow keeps no deadline: every timer it still has is cancelled.
        new_timers = [] if decision.final else list(decision.set_timers)
        if row is not None:  # a new workflow has no timer yet (a timer needs its workflow row)
            await cancel_timers(
                self.c,
                log,
                version=version,
                names=[*decision.cancel_timers, *(t.name for t in new_timers)],
                final=decision.final,
            )
        timer_rows = plan_timers(log, new_timers, version=version)
        state_from = row["state"] if row else None
        # The history row's hash is the transition's own (services.store.transition).
        transition = Transition(
            workflow_id=self.workflow_id,
            company_id=self.company,
            workflow_type=m.workflow_type,
            message_id=m.message_id,
            message=message_json,
            state_from=state_from,
            state_to=decision.state,
            data=data,
            version=version,
            final=decision.final,
            applied_at=now,
            events=log.bodies,
            prev_hash=row["head_hash"] if row else GENESIS,
            timers=timer_rows,
            outgoing=log.outgoing(),
            pinned_terms=pinned,
        )
        await write_transition(self.c, transition)
        return Outcome("applied", self.workflow_id, decision.state, version, log.bodies)

    def _log(self, occurred_at: datetime) -> EventLog:
        return EventLog(
            company_id=self.company,
            workflow_id=self.workflow_id,
            workflow_type=self.message.workflow_type,
            message_id=self.message.message_id,
            occurred_at=occurred_at,
            message_kind=self.message.kind,
        )

    def _visible(self) -> tuple[str | None, int]:
        return (self.row["state"], self.row["version"]) if self.row else (None, 0)

    async def _stale(self) -> Outcome:
        await self._set_inbox("stale", None)
        state, version = self._visible()
        return Outcome("stale", self.workflow_id, state, version)

    async def _refuse(self, refused: Refused) -> Outcome:
        m = self.message
        if isinstance(m, CommandMessage) and not await company_exists(self.c, self.company):
            if refused.code in {"no_terms", "not_found", "unregistered_company"}:
                refused = _unknown_company(self.company)
            refusal = {"rule": refused.rule, "reason": refused.reason, "code": refused.code}
            raise _Unrecorded(
                Outcome("refused", self.workflow_id, None, 0, refusal=refusal, recorded=False)
            )
        refusal = {"rule": refused.rule, "reason": refused.reason, "code": refused.code}
        await self._set_inbox("refused", refusal)
        state, version = self._visible()
        log = self._log(self.now)
        command = m.command if isinstance(m, CommandMessage) else m.timer
        status = refusal_status(refused.code)  # the status the same refusal gets over HTTP
        log.add("command_refused", {**refusal, "command": command, "status": status}, version)
        await write_outbox(self.c, self.company, self.workflow_id, log.outgoing())
        return Outcome("refused", self.workflow_id, state, version, log.bodies, refusal)

    async def _set_inbox(self, outcome: str, refusal: dict[str, str] | None) -> None:
        await self.c.execute(
            "UPDATE inbox SET outcome = $4, refusal = $5::jsonb "
            "WHERE company_id = $1 AND kind = $2 AND message_id = $3",
            self.company,
            self.message.kind,
            self.message.message_id,
            outcome,
            refusal,
        )


def _log_outcome(message: CommandMessage | TimerMessage, outcome: Outcome) -> None:
    """One line per message, after commit: what an operator tails to see the service work."""
    what = message.command if isinstance(message, CommandMessage) else f"timer {message.timer}"
    where = f"{message.company_id}/{message.workflow_type}/{message.workflow_id}"
    if outcome.status == "refused" and outcome.refusal:
        log.warning(
            "refused %s on %s (message %s): %s: %s",
            what, where, message.message_id, outcome.refusal["rule"], outcome.refusal["reason"],
        )  # fmt: skip
    elif outcome.note:
        log.warning(
            "ignored %s on %s (message %s): %s; nothing recorded",
            what, where, message.message_id, outcome.note,
        )  # fmt: skip
    else:
        log.info(
            "%s %s on %s → %s v%s (message %s)",
            outcome.status, what, where, outcome.state, outcome.version, message.message_id,
        )  # fmt: skip


def _unknown_company(company: str) -> Refused:
    return Refused(
        ENGINE_RULE,
        f"no company {company} is registered: an administrator registers it first (PUT "
        f"/api/v1/companies/{company} with an operator key, or `equityflow register-company "
        f"{company} --terms ...`), then its workflows start under its terms",
        "unregistered_company",
    )


def _not_found(workflow_id: UUID, company: str) -> Refused:
    return Refused(ENGINE_RULE, f"no workflow {workflow_id} in company {company}", "not_found")


__all__ = ["Outcome", "apply"]
