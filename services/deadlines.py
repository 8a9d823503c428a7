"""The deadlines service: due timer rows → timer messages to the engine, until the engine has them.

No timer lives in memory or in the broker: every deadline is a row (``timers``) with who must
act, by when, under which clause and why that date. Each pass claims the pending timers due at
the clock's current time with ``FOR UPDATE SKIP LOCKED`` (one statement, which also reads the
simulated clock: ``services.store.timers``), publishes them as ``TimerMessage``s (``message_id``
= the timer id), in bundles of many timers of one engine shard each (``timers.<shard>``:
``services.bus.timer_bundles``), with their publisher confirms awaited together, marks the
confirmed ones fired and commits. Replicas skip each other's locked
rows, so each due timer is claimed by one of them; a crash before the commit fires the timer
again with the same message id, which the engine applies once.

Fired is not done: the engine marks a timer ``applied`` in the transaction that records its
message. A confirmed message is in a durable quorum queue, so a timer still fired after the
redelivery grace is most often simply *queued* behind a backlog the engine has not reached yet;
firing it again would only add a copy for the engine to recognise, and a burst of due timers
would snowball. So a timer past its grace is fired again only when its message cannot be
waiting in the engine queue: the queue has no ready message (its message was delivered and not
applied: lost, dead-lettered, the queue purged), or RabbitMQ cannot say how many wait
(unreachable, the queue deleted). While a backlog waits, the re-fire is held, at most
``MAX_BACKLOG_HOLD`` graces past its time (about an hour), so a queue that never drains still
cannot keep a lost timer from taking effect. A re-fire goes out with the same message id, so a
legal deadline (an election window closing) always takes effect, once. Each re-fire is counted
(``timers.refires``), logged, and doubles the wait before the next one (up to
``MAX_REDELIVERY_BACKOFF`` graces).

The grace is measured on the service's own clock, the one that stamps ``fired_at``: real time
in production; with the simulated clock, simulated time, so a lost timer is re-fired when the
clock is next advanced past its grace (never by comparing a simulated ``fired_at`` with the
real time). With the in-memory broker everything in flight dies with the process, so a service
starting on it re-fires every fired timer at once, whatever the clock says.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from faststream.rabbit import RabbitExchange

from services.bus.backlog import Backlog
from services.bus.ordered_publish import Publication, publish_in_order
from services.bus.polling import OnPass, poll
from services.bus.publisher import InMemoryPublisher, Publisher
from services.bus.timer_bundles import bundle_body, in_bundles
from services.bus.topology import Topology
from services.clock import Clock, SimulatedClock
from services.store import timers as store
from services.store.db import Connection
from workflows.messages import NAME_PATTERN, TimerMessage

log = logging.getLogger(__name__)

#: Time after firing (on the service's clock) before a timer not yet applied is fired again.
REDELIVERY_GRACE = timedelta(seconds=60)
#: The wait before a re-fire doubles each time, up to this many graces (about an hour).
MAX_REDELIVERY_BACKOFF = 64
#: While the engine queue has a backlog, a re-fire waits at most this many graces past its time.
MAX_BACKLOG_HOLD = 60

Claim = Callable[[Connection, datetime, bool, int], Awaitable[list[asyncpg.Record]]]
#: After publishing: settle the claimed rows in the claiming transaction, given the timer ids
#: confirmed, the rows that were not, and the claim's now.
Settle = Callable[[Connection, list[UUID], list[asyncpg.Record], datetime], Awaitable[None]]
Keep = Callable[[list[asyncpg.Record]], Awaitable[list[asyncpg.Record]]]

#: The re-fire sweep runs at most this often (seconds of the event loop's monotonic time),
#: unless the last one fired a full batch again. Within the grace it finds nothing; past it,
#: while the engine works through a backlog, it finds every timer still queued and holds them
#: back (``RefireHold``): run on every pass of a burst, it cost the deadlines service a third
#: of its time, for a re-fire that waits a grace (a minute) anyway.
REFIRE_SWEEP_INTERVAL = 1.0

# The JSON text of a ``TimerMessage`` (``model_dump_json``), built without a model per timer.
# Only for values the model accepts and writes as they are (its patterns for ``CompanyId`` and
# ``Name``: nothing to escape) and an instant in UTC; anything else goes through the model,
# which refuses it as before.
_TIMER_BODY = (
    '{{"kind":"timer","message_id":"{0}","company_id":"{1}","workflow_id":"{2}",'
    '"workflow_type":"{3}","timer":"{4}","due_at":"{5}"}}'
)
_COMPANY_ID = re.compile(r"[A-Za-z0-9_.-]{1,100}")
_NAME = re.compile(NAME_PATTERN.removesuffix("$"))


def _plain_names(row: asyncpg.Record) -> bool:
    return _COMPANY_ID.fullmatch(row["company_id"]) is not None and all(
        len(n) <= 80 and _NAME.fullmatch(n) is not None for n in (row["workflow_type"], row["name"])
    )


def _timer_body(row: asyncpg.Record) -> bytes:
    """The timer message's body: the same bytes as ``TimerMessage.model_dump_json``."""
    due: datetime = row["due_at"]
    if due.utcoffset() == timedelta(0) and _plain_names(row):
        # An instant in UTC: ISO 8601 with "Z", microseconds only when there are any.
        stamp = due.replace(tzinfo=None).isoformat() + "Z"
        return _TIMER_BODY.format(
            row["timer_id"], row["company_id"], row["workflow_id"], row["workflow_type"],
            row["name"], stamp,
        ).encode()  # fmt: skip
    m = TimerMessage(
        message_id=str(row["timer_id"]),
        company_id=row["company_id"],
        workflow_id=row["workflow_id"],
        workflow_type=row["workflow_type"],
        timer=row["name"],
        due_at=due,
    )
    return m.model_dump_json().encode()


def _bundles(
    rows: list[asyncpg.Record], exchange: RabbitExchange, topology: Topology
) -> list[Publication[tuple[UUID, ...]]]:
    """The rows as bundles of timers (``services.bus.timer_bundles``): by shard, each shard's
    in the order claimed. The bundles of one shard share a key, so each goes out only once the
    one before it is confirmed, as the timers of one workflow did when each was a message."""
    by_shard: dict[int, list[asyncpg.Record]] = {}
    for r in rows:
        by_shard.setdefault(topology.engine_shard(r["workflow_id"]), []).append(r)
    publications = []
    for shard, in_shard in by_shard.items():
        bodies = [_timer_body(r) for r in in_shard]
        for run in in_bundles(bodies):
            ids = tuple(in_shard[n]["timer_id"] for n in run)
            publications.append(
                Publication(
                    ref=ids,
                    key=shard,
                    body=bundle_body(bodies[n] for n in run),
                    exchange=exchange,
                    routing_key=topology.timer_bundle_routing_key(shard),
                    message_id=f"timers-{ids[0]}",  # for the logs: each timer has its own
                )
            )
    return publications


async def _reading(clock: Clock) -> tuple[datetime, bool]:
    """What the claim needs of the clock. The simulated one is read again by the claim itself,
    in its own snapshot (this reading only stands in if the row were gone); any other is read
    here, just before. Both go through the clock, which alone reads the system time."""
    return await clock.now(), isinstance(clock, SimulatedClock)


async def _everything(rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
    return rows


async def _claim_publish_settle(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    batch_size: int,
    claim: Claim,
    settle: Settle,
    keep: Keep = _everything,
) -> list[asyncpg.Record]:
    """One transaction: claim a batch (SKIP LOCKED), publish what ``keep`` keeps of it, settle
    it (``Settle``); the rows confirmed.

    The batch goes out in bundles, one or more per engine shard (``_bundles``), in waves with
    their confirms awaited together (``services.bus.ordered_publish``): waiting for each
    confirm before sending the next made the burst of 100,000 due timers (ROADMAP item 5) take
    70 s instead of 39 s here. Timers of one workflow go in the order claimed (by due time).
    Only confirmed timers end the transaction fired; those of a bundle not confirmed (nacked,
    returned, timed out) stay as they were with the later bundles of their shard, and are
    claimed again first on the next pass, under the same message ids, so the engine's inbox
    keeps each to one effect. The first failure is raised after the commit.
    """
    async with pool.acquire() as connection:
        async with connection.transaction():
            reading, simulated = await _reading(clock)
            claimed = await claim(connection, reading, simulated, batch_size)
            rows = await keep(claimed)
            exchange = topology.commands_exchange  # built anew on every call: once a batch
            published = await publish_in_order(publisher, _bundles(rows, exchange, topology))
            confirmed = [timer_id for bundle in published.confirmed for timer_id in bundle]
            done = set(confirmed)
            if claimed:
                unconfirmed = [r for r in claimed if r["timer_id"] not in done]
                await settle(connection, confirmed, unconfirmed, claimed[0]["now"])
        if published.failed:
            log.warning(
                "deadlines: %d of %d timers not confirmed, %d held back behind them; retried next",
                sum(len(ids) for ids, _ in published.failed), len(rows),
                sum(map(len, published.held_back)),
            )  # fmt: skip
        published.raise_first_failure()
    return [r for r in rows if r["timer_id"] in done]


async def fire_due_timers(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    batch_size: int = 100,
    *,
    redelivery_grace: timedelta = REDELIVERY_GRACE,
) -> int:
    """Fire one batch of due timers; return how many fired.

    The claim marks its batch fired (``services.store.timers.fire_due``); what was not
    confirmed is put back before the commit."""

    async def claim(c: Connection, reading: datetime, simulated: bool, limit: int) -> list[Any]:
        return await store.fire_due(c, reading, simulated, limit, redelivery_grace)

    async def settle(
        c: Connection, _: list[UUID], unconfirmed: list[asyncpg.Record], __: datetime
    ) -> None:
        if unconfirmed:
            await store.unfire(c, unconfirmed)

    rows = await _claim_publish_settle(pool, clock, publisher, topology, batch_size, claim, settle)
    return len(rows)


class RefireHold:
    """Which of the claimed timers past their grace to fire again now (see the module).

    All of them when RabbitMQ cannot count the engine queue. Otherwise only once the queue
    has had no ready message for a whole grace (``drained_since``): a message the engine was
    delivered is in its hands, not lost, until it has had that long to apply it (a consumer
    may hold thousands unacknowledged). Past ``MAX_BACKLOG_HOLD`` graces, a timer is fired
    again whatever waits."""

    def __init__(self, backlog: Backlog | None, grace: timedelta = REDELIVERY_GRACE) -> None:
        self.backlog, self.grace, self.hold = backlog, grace, grace * MAX_BACKLOG_HOLD
        self.drained_since: datetime | None = None  # no ready message seen since then
        self.holding = False  # said once when a hold starts, not on every pass

    async def __call__(self, rows: list[asyncpg.Record]) -> list[asyncpg.Record]:
        if not rows or self.backlog is None:
            return rows
        queued, now = await self.backlog(), rows[0]["now"]
        if queued is None:  # RabbitMQ cannot say: nothing there can be counted on
            return rows
        if queued:
            self.drained_since = None
        elif self.drained_since is None or self.drained_since > now:  # (a clock turned back)
            self.drained_since = now
        if self.drained_since is not None and now - self.drained_since >= self.grace:
            self.holding = False
            return rows
        kept = [r for r in rows if r["refire_at"] <= now - self.hold]
        if len(kept) < len(rows) and not self.holding:
            log.info(
                "deadlines: timers past their grace are not fired again yet: %d messages wait "
                "in the engine queue (theirs perhaps among them), or it has not been empty for "
                "a grace",
                queued,
            )
        self.holding = len(kept) < len(rows)
        return kept


async def refire_unapplied_timers(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    batch_size: int = 100,
    *,
    redelivery_grace: timedelta = REDELIVERY_GRACE,
    hold: RefireHold | None = None,
) -> int:
    """Fire again one batch of the timers fired, not applied, and past their re-fire time,
    except those ``hold`` keeps back while their messages may still be queued (the module)."""
    ceiling = redelivery_grace * MAX_REDELIVERY_BACKOFF

    async def settle(
        c: Connection, ids: list[UUID], _: list[asyncpg.Record], now: datetime
    ) -> None:
        if ids:
            await store.mark_refired(c, ids, now, redelivery_grace, ceiling)

    rows = await _claim_publish_settle(
        pool, clock, publisher, topology, batch_size, store.claim_unapplied, settle,
        hold or _everything,
    )  # fmt: skip
    for r in rows:
        log.warning(
            "timer %s (%s of %s workflow %s) fired at %s was not applied: fired again (re-fire %d)",
            r["timer_id"], r["name"], r["workflow_type"], r["workflow_id"],
            r["fired_at"].isoformat() if r["fired_at"] else "?", r["refires"] + 1,
        )  # fmt: skip
    return len(rows)


async def make_unapplied_timers_due(pool: asyncpg.Pool, clock: Clock) -> int:
    """Every timer fired and not applied is due for a re-fire now (its message is known lost)."""
    return await store.make_unapplied_due(pool, *await _reading(clock))


async def run_deadlines(
    pool: asyncpg.Pool,
    clock: Clock,
    publisher: Publisher,
    topology: Topology,
    *,
    poll_interval: float = 0.5,
    batch_size: int = 100,
    redelivery_grace: timedelta = REDELIVERY_GRACE,
    engine_backlog: Backlog | None = None,
    on_pass: OnPass | None = None,
) -> None:
    """Fire due timers, and fire again those not applied in time, until cancelled.

    ``engine_backlog`` counts the messages waiting in the engine queue (``None``: no count,
    every timer past its grace is fired again). ``on_pass`` is called after each completed
    pass (``services.bus.polling.poll``)."""
    # With the in-memory broker, whatever was fired and not applied when the last process
    # stopped died with it: due again at once (the first pass, so a failure is retried).
    lost_in_flight = isinstance(publisher, InMemoryPublisher)
    hold = RefireHold(engine_backlog, redelivery_grace)
    loop = asyncio.get_running_loop()
    next_sweep = loop.time()  # sweep on the first pass

    async def one_pass() -> int:
        nonlocal lost_in_flight, next_sweep
        if lost_in_flight:
            await make_unapplied_timers_due(pool, clock)
            lost_in_flight = False
        fired = await fire_due_timers(
            pool, clock, publisher, topology, batch_size, redelivery_grace=redelivery_grace
        )
        if loop.time() < next_sweep:
            return fired
        refired = await refire_unapplied_timers(
            pool, clock, publisher, topology, batch_size,
            redelivery_grace=redelivery_grace, hold=hold,
        )  # fmt: skip
        # A full batch fired again: more wait, sweep again next pass.
        next_sweep = loop.time() + (0.0 if refired >= batch_size else REFIRE_SWEEP_INTERVAL)
        return fired + refired

    await poll(one_pass, batch_size, poll_interval, "deadlines", on_pass)
