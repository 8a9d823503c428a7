"""The unit of work: one transaction for a batch of messages, load → decide → plan → write.

A batch that fails while loading or writing (the database refuses a row, say) is rolled back
whole and its messages are applied again one by one, each in its own transaction, so the
message at fault fails alone and the others apply: the plan of a batch is all or nothing, and
this fallback is the engine's equivalent of a savepoint per message, without paying one per
message when nothing fails. A message that fails holds the later messages of its workflow
(``Held``): they never overtake it.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from services.clock import Clock
from services.engine import register, sends
from services.engine.outcome import Held, Outcome, recorded_outcome
from services.engine.plan import Batch, Earlier, Message, Terms, View
from services.engine.timers import Timer, timer_id_of
from services.store.chain import json_digest
from services.store.db import Connection, transactions_only
from services.store.unit_load import Loaded, lock_and_load, pinned_terms
from services.store.unit_write import WorkflowRow, write_batch
from workflows import registry
from workflows.messages import CommandMessage, TimerMessage

log = logging.getLogger("services.engine")

_RETRIES = 8
Result = Outcome | BaseException


class TermsSource(Protocol):
    def get(self, terms_id: str) -> Any: ...
    def pinned_json(self, terms_id: str) -> str: ...
    def pinned(self, digest: str) -> Any: ...
    def keep_pinned(self, digest: str, document: Any) -> Any: ...


async def apply(
    pool: asyncpg.Pool, message: Message, clock: Clock, catalog: TermsSource
) -> Outcome:
    """Apply one message exactly once (a batch of one); raise what it failed with."""
    [result] = await apply_batch(pool, [message], clock, catalog)
    if isinstance(result, BaseException):
        raise result
    return result


async def apply_batch(
    pool: asyncpg.Pool, messages: Sequence[Message], clock: Clock, catalog: TermsSource
) -> list[Result]:
    """Apply ``messages`` in order, in one transaction when nothing fails; one result each:
    its ``Outcome``, or the exception it failed with (``Held``: not tried, behind a failure)."""
    # The clock is read before a connection is taken: a simulated clock needs a connection of
    # its own, and a pool whose every connection waits on one workflow's lock must never also
    # wait for a free connection to read the time.
    now = await clock.now()
    try:
        results = await _retrying(pool, messages, now, catalog)
    except Exception as error:
        if len(messages) == 1:
            results = [error]
        else:
            log.warning(
                "a batch of %d messages failed (%s: %s); applying them one by one",
                len(messages), type(error).__name__, error,
            )  # fmt: skip
            results = await _one_by_one(pool, messages, now, catalog)
    for message, result in zip(messages, results, strict=True):
        _log_result(message, result)
    return results


async def _one_by_one(
    pool: asyncpg.Pool, messages: Sequence[Message], now: datetime, catalog: TermsSource
) -> list[Result]:
    results: list[Result] = []
    failed: set[Any] = set()
    for message in messages:
        if message.workflow_id in failed:
            results.append(Held(f"behind a failed message of workflow {message.workflow_id}"))
            continue
        try:
            [result] = await _retrying(pool, [message], now, catalog)
        except Exception as error:
            result = error
        if isinstance(result, BaseException):
            failed.add(message.workflow_id)
        results.append(result)
    return results


async def _retrying(
    pool: asyncpg.Pool, messages: Sequence[Message], now: datetime, catalog: TermsSource
) -> list[Result]:
    """One transaction for the batch, tried again on a deadlock or serialization failure."""
    for attempt in range(_RETRIES):
        try:
            # A batch changes no session state: its locks are the transaction's.
            async with transactions_only(pool) as connection, connection.transaction():
                return await _unit(connection, messages, now, catalog)
        except (asyncpg.DeadlockDetectedError, asyncpg.SerializationError):
            if attempt == _RETRIES - 1:
                raise
            await asyncio.sleep(random.uniform(0, 0.005 * 2**attempt))
    raise AssertionError("unreachable")


async def _unit(
    c: Connection, messages: Sequence[Message], now: datetime, catalog: TermsSource
) -> list[Result]:
    timer_ids = [t for m in messages if isinstance(m, TimerMessage) and (t := timer_id_of(m))]
    keys = list(dict.fromkeys((m.company_id, m.kind, m.message_id) for m in messages))
    ids = [m.workflow_id for m in messages]
    asked = await register.ask(c, messages, registry.kind)
    # The companies' registered terms are read with the rest (a lookup each): a message may
    # start a workflow, or be refused for a company that is not there.
    companies = [m.company_id for m in messages]
    loaded = await lock_and_load(c, ids, timer_ids, keys, companies, asked.locks())
    batch = Batch(
        register=await register.load(c, asked, ids),
        views=await _views(c, loaded, catalog),
        timers={t.timer_id: t for t in map(Timer.loaded, loaded.timers)},
        recorded=loaded.recorded,
        terms=Terms(
            catalog,
            loaded.registered,
            {r["company_id"] for r in loaded.workflows.values()},  # only registered ones have any
        ),
        kind_of=registry.kind,
    )
    for timer in batch.timers.values():
        view = batch.views.get(timer.workflow_id)
        if view is not None and timer.status in ("pending", "fired"):
            view.timers.append(timer)
    results: list[Result | Earlier] = []
    failed: set[Any] = set()
    for m in messages:
        if m.workflow_id in failed:
            results.append(Held(f"behind a failed message of workflow {m.workflow_id}"))
            continue
        try:
            results.append(batch.plan(m, now))
        except Exception as error:  # a bug in a decision, say: this message fails alone
            results.append(error)
            failed.add(m.workflow_id)
    if batch.fan_outs:
        batch.write.outbox.extend(await sends.expand(c, batch.fan_outs))
    await write_batch(c, batch.write)
    return [await recorded_outcome(c, r.message) if isinstance(r, Earlier) else r for r in results]


async def _views(c: Connection, loaded: Loaded, catalog: TermsSource) -> dict[Any, View]:
    views = {}
    for wid, r in loaded.workflows.items():
        # Thousands of workflows share a few terms documents: each is read and parsed once per
        # catalog (so per process), by its digest, not on every message.
        digest = r["terms_digest"]
        terms = catalog.pinned(digest)
        if terms is None:
            raw = await pinned_terms(c, wid)
            # The digest is the one the history's first row records (an md5 of the stored text
            # for older rows): kept only when it is the digest of what was read.
            if len(digest) != 64 or json_digest(raw) == digest:
                terms = catalog.keep_pinned(digest, raw)
            else:
                terms = registry.parse_terms(raw)
        row = WorkflowRow(
            wid, r["company_id"], r["workflow_type"], r["terms_id"], None, r["state"], "",
            r["version"], r["final"], r["head_hash"], r["updated_at"], r["updated_at"],
        )  # fmt: skip
        views[wid] = View(row, r["data"], terms, new=False)
    return views


def _log_result(message: Message, result: Result) -> None:
    """One line per message, after commit: what an operator tails to see the service work."""
    if not isinstance(result, Outcome):
        return  # the consumer or the caller says what it does with a failure
    refused = result.status == "refused" and result.refusal is not None
    if not log.isEnabledFor(logging.WARNING if refused or result.note else logging.INFO):
        return  # not logged: the line is not even made
    what = message.command if isinstance(message, CommandMessage) else f"timer {message.timer}"
    where = f"{message.company_id}/{message.workflow_type}/{message.workflow_id}"
    if refused:
        assert result.refusal is not None
        log.warning(
            "refused %s on %s (message %s): %s: %s",
            what, where, message.message_id, result.refusal["rule"], result.refusal["reason"],
        )  # fmt: skip
    elif result.note:
        log.warning(
            "ignored %s on %s (message %s): %s; nothing recorded",
            what, where, message.message_id, result.note,
        )  # fmt: skip
    else:
        log.info(
            "%s %s on %s → %s v%s (message %s)",
            result.status, what, where, result.state, result.version, message.message_id,
        )  # fmt: skip
