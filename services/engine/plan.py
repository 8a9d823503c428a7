"""Decide and plan, for every message of a batch in arrival order: pure, no I/O.

Each message sees the workflow as the messages before it in the batch left it (state, data,
version, head hash, timers), so several messages of one workflow chain in one transaction
exactly as they would in several. A message's plan changes the batch only once it is whole:
a refusal records the refusal alone, and a message whose planning raises leaves nothing (it is
retried; the later messages of its workflow are held behind it, ``Held``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from services.engine.events import EventLog, json_safe_text
from services.engine.outcome import Outcome
from services.engine.register import Register, reads_of
from services.engine.sends import Cause, FanOut, plan_sends
from services.engine.timers import (
    Timer,
    check_timer,
    plan_timers,
    timer_id_of,
    to_cancel,
    to_spend,
)
from services.store.canonical import dump_json
from services.store.chain import GENESIS, HASH_VERSION, digest, hash_v2
from services.store.unit_load import InboxKey
from services.store.unit_write import HistoryRow, InboxRow, WorkflowRow, WriteSet
from workflows.kernel import Decision, Refused, refusal_status
from workflows.messages import CommandMessage, TimerMessage

ENGINE_RULE = "equityflow engine"
Message = CommandMessage | TimerMessage


@dataclass(slots=True)  # one per workflow of a batch
class View:
    """A workflow as the batch sees it."""

    row: WorkflowRow
    data: Any  # decoded, for ``decide``
    terms: Any  # parsed, for ``decide``
    new: bool  # started in this batch: inserted, not updated
    terms_digest: str | None = None  # of the pinned terms, on the first history row only
    timers: list[Timer] = field(default_factory=list)


class Ignored(Exception):
    """A timer message that is not the deadlines service's for a due timer: nothing is kept."""


class Unrecorded(Exception):
    """A refusal for a company that does not exist: answered, nothing is kept."""

    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.refusal)
        self.outcome = outcome


@dataclass(frozen=True)
class Earlier:
    """A duplicate of a message the inbox held before the batch: answered from the store."""

    message: Message


class Terms:
    """What planning needs of the terms: the catalog's, and the registered companies'."""

    def __init__(self, catalog: Any, registered: Mapping[str, str], existing: set[str]) -> None:
        self.catalog, self.registered, self.existing = catalog, registered, existing
        self._digests: dict[str, str] = {}

    def digest(self, text: str) -> str:
        """The digest of a pinned terms text: hashed once per batch, not once per workflow."""
        found = self._digests.get(text)
        if found is None:
            found = self._digests[text] = digest(text)
        return found

    def company_exists(self, company: str) -> bool:
        return company in self.registered or company in self.existing

    def known(self, terms_id: str) -> str:
        """The canonical JSON of the terms, serialised once when the catalog was loaded."""
        try:
            text: str = self.catalog.pinned_json(terms_id)
        except LookupError as e:  # the catalog's "unknown terms 'x'; known terms: ..."
            raise Refused(ENGINE_RULE, str(e), "unknown_terms") from e
        except Exception as e:  # a terms file in error
            raise Refused(ENGINE_RULE, f"terms {terms_id!r}: {e}", "unknown_terms") from e
        return text


@dataclass
class Batch:
    """The state of a batch being planned, and what it will write."""

    views: dict[UUID, View]
    timers: dict[UUID, Timer]  # by id: those read at load and those set in the batch
    recorded: set[InboxKey]  # in the inbox before the batch
    terms: Terms
    kind_of: Callable[[str], Any]  # workflow type → kind (``workflows.registry.kind``)
    register: Register | None = None  # the facts the batch's kinds read, loaded under its locks
    write: WriteSet = field(default_factory=WriteSet)
    fan_outs: list[FanOut] = field(default_factory=list)  # expanded when the batch is written
    answered: dict[InboxKey, Outcome] = field(default_factory=dict)  # recorded in this batch

    def plan(self, m: Message, now: datetime) -> Outcome | Earlier:
        key = (m.company_id, m.kind, m.message_id)
        if key in self.recorded:
            if isinstance(m, TimerMessage):
                self.mark_applied(m, now)  # perhaps recorded before timers had this status
            return Earlier(m)
        if key in self.answered:
            first = self.answered[key]
            return Outcome("duplicate", first.workflow_id, first.state, first.version,
                           first.events, first.refusal)  # fmt: skip
        try:
            outcome = _Step(self, m, now).run()
        except Ignored as ignored:
            view = self.views.get(m.workflow_id)
            visible = view is not None and view.row.company_id == m.company_id
            state, version = (view.row.state, view.row.version) if visible and view else (None, 0)
            return Outcome("stale", m.workflow_id, state, version, note=str(ignored))
        except Unrecorded as unrecorded:
            return unrecorded.outcome
        self.answered[key] = outcome
        return outcome

    def mark_applied(self, m: TimerMessage, now: datetime) -> None:
        """The engine has recorded this timer's message: the deadlines service stops
        re-firing it. Only a fired timer: a pending one has not been sent (its message was
        not the deadlines service's), and a cancelled or spent one stays so."""
        tid = timer_id_of(m)
        timer = self.timers.get(tid) if tid is not None else None
        if (
            timer is not None
            and timer.status == "fired"
            and (timer.workflow_id, timer.company_id) == (m.workflow_id, m.company_id)
        ):
            timer.move("applied")
            self.write.timer_moves[timer.timer_id] = ("applied", now)


class _Step:
    """One message: checks, ``decide``, and its plan, written into the batch at the end."""

    def __init__(self, batch: Batch, m: Message, now: datetime) -> None:
        self.batch, self.m, self.now = batch, m, now
        self.view: View | None = None  # the workflow, if this company has it
        # A timer message that reached the engine (applied, refused or stale) stops its
        # timer's re-fires; marked once the message's plan is whole.
        self.mark_timer = False

    def run(self) -> Outcome:
        try:
            outcome = self._decide_and_plan()
        except Refused as refused:
            outcome = self._refuse(refused)
        if self.mark_timer:
            assert isinstance(self.m, TimerMessage)
            self.batch.mark_applied(self.m, self.now)
        return outcome

    def _decide_and_plan(self) -> Outcome:
        m, batch = self.m, self.batch
        view = batch.views.get(m.workflow_id)
        if isinstance(m, TimerMessage):
            tid = timer_id_of(m)
            check = check_timer(m, batch.timers.get(tid) if tid else None, self.now)
            if check.verdict == "ignore":
                if view is not None and view.row.company_id == m.company_id:
                    self.view = view
                raise Ignored(check.reason)
            self.mark_timer = True
        if view is not None and view.row.company_id != m.company_id:
            raise _not_found(m)
        self.view = view
        if view is not None and view.row.workflow_type != m.workflow_type:
            raise Refused(
                ENGINE_RULE,
                f"workflow {m.workflow_id} is a {view.row.workflow_type} workflow, "
                f"not {m.workflow_type}",
                "wrong_workflow_type",
            )
        if isinstance(m, TimerMessage):
            if view is None:  # never so: a fired timer has its workflow (a foreign key)
                raise _not_found(m)
            if check.verdict == "ended":
                return self._stale()
        # A command reaches a workflow in a final state too: an act that took effect before
        # the facts that ended it is judged in its place (the kind refuses any other).
        try:
            kind = batch.kind_of(m.workflow_type)
        except (KeyError, LookupError, ValueError) as e:
            raise Refused(
                ENGINE_RULE, f"unknown workflow type {m.workflow_type!r}", "unknown_workflow_type"
            ) from e
        try:
            _, message_json = json_safe_text(m.model_dump(mode="json"))
        except ValueError as e:
            raise Refused(ENGINE_RULE, f"the payload is not JSON: {e}", "malformed") from e
        if view is None:
            terms_id, terms_json = self._terms_to_pin()
            terms = batch.terms.catalog.get(terms_id)
            state, data, now = None, {}, self.now
        else:
            terms, state, data = view.terms, view.row.state, view.data
            # A clock read on another replica may lag the last transition; history never
            # goes back in time.
            now = max(self.now, view.row.updated_at)
        try:
            decision = kind.decide(state, data, m.to_domain(), now, terms, **self._facts(kind))
        except Refused as refused:
            if view is None and refused.code == "wrong_state":
                # "Cannot do this before the workflow starts" would tell an id that exists in
                # another company (not found) from one that exists nowhere: the same answer.
                raise _not_found(m) from refused
            raise
        if view is None:
            view = self._new_view(terms_id, terms_json, terms, now)
        return self._plan(view, decision, now, message_json)

    def _facts(self, kind: Any) -> dict[str, Any]:
        """``facts=`` for a kind that reads them (``workflows.reads``), as loaded under the
        batch's locks and changed by the batch's earlier messages; nothing for one that
        does not."""
        if getattr(kind, "reads", None) is None:
            return {}
        view, m = self.view, self.m
        state, data = (view.row.state, view.data) if view is not None else (None, {})
        reads = reads_of(kind, state, data, m)
        register = self.batch.register
        facts = (
            register.facts(reads, m.company_id, self.batch.views, m.workflow_id)
            if register
            else None
        )
        return {"facts": facts}

    def _new_view(self, terms_id: str, terms_json: str, terms: Any, now: datetime) -> View:
        m = self.m
        row = WorkflowRow(
            m.workflow_id, m.company_id, m.workflow_type, terms_id, terms_json, state="",
            data_json="{}", version=0, final=False, head_hash=GENESIS, created_at=now,
            updated_at=now,
        )  # fmt: skip
        return View(row, {}, terms, new=True, terms_digest=self.batch.terms.digest(terms_json))

    def _terms_to_pin(self) -> tuple[str, str]:
        """The terms a new workflow pins: the company's registered ones, which the party
        sending the command may not override (a command naming other terms is refused). A
        company that has registered none starts nothing: a command never creates a company."""
        terms, company = self.batch.terms, self.m.company_id
        named = getattr(self.m, "terms", None)
        if named is not None:
            terms.known(named)  # an unknown id is a malformed command, whoever sends it
        registered = terms.registered.get(company)
        if registered is not None and named is not None and named != registered:
            raise Refused(
                ENGINE_RULE,
                f"company {company} is registered under {registered}; the command names {named}",
                "terms_mismatch",
            )
        if registered is None:
            # A command never creates a company: only an administrator registers one.
            raise Refused(
                ENGINE_RULE,
                f"no company {company} is registered: an administrator registers it "
                f"first (PUT /api/v1/companies/{company} with an operator key, or "
                "equityflow register-company), then its workflows start under its terms",
                "unregistered_company",
            )
        return registered, terms.known(registered)

    def _plan(self, view: View, decision: Decision, now: datetime, message_json: str) -> Outcome:
        m, row = self.m, view.row
        version = row.version + 1
        data, data_json = json_safe_text(dict(decision.data))
        log = self._log(now)
        for event in decision.events:
            log.add(event.type, event.payload, version)
        # A final workflow keeps no deadline: every timer it still has is cancelled.
        new_timers = [] if decision.final else list(decision.set_timers)
        # The timer this message is for is applied, not cancelled (it is marked so below).
        applying = timer_id_of(m) if self.mark_timer and isinstance(m, TimerMessage) else None
        others = [t for t in view.timers if t.timer_id != applying]
        # A deadline the run passed took effect: spent, whatever else the decision cancels.
        spent = to_spend(others, decision.spent_timers) if decision.spent_timers else []
        cancelled = to_cancel(
            [t for t in others if t not in spent] if spent else others,
            [*decision.cancel_timers, *(t.name for t in new_timers)],
            final=decision.final,
        )
        for timer in spent:
            log.add("deadline_passed", timer.payload(), version)
        for timer in cancelled:
            log.add("deadline_cancelled", timer.payload(), version)
        planned = plan_timers(
            new_timers, workflow_id=m.workflow_id, company_id=m.company_id,
            workflow_type=m.workflow_type,
        )  # fmt: skip
        for timer in planned:
            log.add("deadline_set", timer.payload(), version)
        sent, fan_outs = plan_sends(Cause.of(m), decision.send) if decision.send else ([], [])
        data_digest, events_json = digest(data_json), log.json()
        terms_digest = view.terms_digest if version == 1 else None
        head = hash_v2(
            row.head_hash, company_id=m.company_id, workflow_id=m.workflow_id,
            workflow_type=m.workflow_type, seq=version, message_id=m.message_id,
            message_json=message_json, state_from=row.state or None, state_to=decision.state,
            final=decision.final, data_digest=data_digest, terms_digest=terms_digest,
            events_json=events_json, applied_at=now,
        )  # fmt: skip
        history = HistoryRow(
            m.workflow_id, version, m.company_id, m.message_id, message_json,
            row.state or None, decision.state, events_json, now, row.head_hash, head,
            HASH_VERSION, decision.final, data_digest, terms_digest,
        )  # fmt: skip
        # The plan is whole: from here on, nothing raises, and the batch moves on.
        batch, write = self.batch, self.batch.write
        for timer in spent:
            if timer.row is None:
                write.timer_moves[timer.timer_id] = ("spent", None)
            timer.move("spent")
        for timer in cancelled:
            if timer.row is None:
                write.timer_moves[timer.timer_id] = ("cancelled", None)
            timer.move("cancelled")
        for timer in planned:
            assert timer.row is not None
            write.timers.append(timer.row)
            batch.timers[timer.timer_id] = timer
        view.timers = [
            t for t in view.timers if t.status in ("pending", "fired") and t.timer_id != applying
        ] + planned
        row.state, row.data_json, row.version, row.final = (
            decision.state, data_json, version, decision.final
        )  # fmt: skip
        row.head_hash, row.updated_at = head, now
        view.data = data
        batch.views[m.workflow_id] = view
        write.workflows[m.workflow_id] = row
        write.history.append(history)
        if log.bodies:
            write.outbox.append(log.history_events(history))  # the texts go with the history row
        write.outbox.extend(sent)
        batch.fan_outs.extend(fan_outs)
        write.inbox.append(self._inbox("applied", None))
        return Outcome("applied", m.workflow_id, decision.state, version, log.bodies)

    def _log(self, occurred_at: datetime) -> EventLog:
        return EventLog(
            company_id=self.m.company_id,
            workflow_id=self.m.workflow_id,
            workflow_type=self.m.workflow_type,
            message_id=self.m.message_id,
            occurred_at=occurred_at,
            message_kind=self.m.kind,
        )

    def _inbox(self, outcome: str, refusal: dict[str, str] | None) -> InboxRow:
        m = self.m
        return InboxRow(
            m.company_id, m.kind, m.message_id, m.workflow_id, outcome,
            dump_json(refusal) if refusal is not None else None, self.now,
        )  # fmt: skip

    def _visible(self) -> tuple[str | None, int]:
        return (self.view.row.state, self.view.row.version) if self.view else (None, 0)

    def _stale(self) -> Outcome:
        self.batch.write.inbox.append(self._inbox("stale", None))
        state, version = self._visible()
        return Outcome("stale", self.m.workflow_id, state, version)

    def _refuse(self, refused: Refused) -> Outcome:
        m = self.m
        refusal = {"rule": refused.rule, "reason": refused.reason, "code": refused.code}
        if isinstance(m, CommandMessage) and not self.batch.terms.company_exists(m.company_id):
            if refused.code in {"no_terms", "not_found", "unregistered_company"}:
                refused = _unknown_company(m.company_id)
            refusal = {"rule": refused.rule, "reason": refused.reason, "code": refused.code}
            raise Unrecorded(
                Outcome("refused", m.workflow_id, None, 0, refusal=refusal, recorded=False)
            )
        state, version = self._visible()
        log = self._log(self.now)
        command = m.command if isinstance(m, CommandMessage) else m.timer
        status = refusal_status(refused.code)  # the status the same refusal gets over HTTP
        log.add("command_refused", {**refusal, "command": command, "status": status}, version)
        self.batch.write.inbox.append(self._inbox("refused", refusal))
        self.batch.write.outbox.extend(log.outbox_rows())
        return Outcome("refused", m.workflow_id, state, version, log.bodies, refusal)


def _unknown_company(company: str) -> Refused:
    return Refused(
        ENGINE_RULE,
        f"no company {company} is registered: an administrator registers it first (PUT "
        f"/api/v1/companies/{company} with an operator key, or `equityflow register-company "
        f"{company} --terms ...`), then its workflows start under its terms",
        "unregistered_company",
    )


def _not_found(m: Message) -> Refused:
    return Refused(
        ENGINE_RULE, f"no workflow {m.workflow_id} in company {m.company_id}", "not_found"
    )
