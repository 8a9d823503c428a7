"""Batches: several messages in one transaction, each answered as if it had its own.

A refused message and one that fails in the middle of a batch leave the others applied; a
message id twice in a batch, or once more after its batch, has one effect; the messages of one
workflow chain in arrival order inside a batch and never overtake one that failed; two
processes batching over the same workflows keep every version contiguous.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import Held, Outcome, apply, apply_batch
from services.engine.events import event_id
from services.store.history import verify_chain
from services.terms_catalog import TermsCatalog
from tests.integration.test_engine import NOW, command, disposition_notice
from workflows import registry
from workflows.messages import ActorIn, CommandMessage


@pytest.fixture(scope="module")
def catalog() -> TermsCatalog:
    return TermsCatalog()


@pytest.fixture
async def clock(pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(pool)
    await simulated.set(NOW)
    return simulated


@pytest.fixture
async def company(pool: asyncpg.Pool) -> str:
    from services.store import register_company

    company_id = f"batch-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, "fmp-1998-nso", "Batch, Inc.")
    return company_id


def assign(company: str, workflow_id: uuid.UUID, n: int) -> CommandMessage:
    """FMP §16(c): the company assigns its right; accepted again and again while the election
    is open, each appended to ``data["assignees"]``, so the data shows the order applied."""
    return command(company, workflow_id, "assign_rofr", "company", assignee=f"assignee {n:02d}")


async def assignees(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[str]:
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", workflow_id)
    return [a["name"] for a in (data or {}).get("assignees", [])]


async def versions(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[int]:
    rows = await pool.fetch(
        "SELECT seq FROM history WHERE workflow_id = $1 ORDER BY seq", workflow_id
    )
    return [r["seq"] for r in rows]


@pytest.fixture
def decide_fails_for() -> Iterator[set[str]]:
    """Actors whose commands make ``decide`` raise (a bug in a decision, for the engine)."""
    failing: set[str] = set()
    real_kind = registry.kind

    class Faulty:
        def __init__(self, kind: Any) -> None:
            self.kind = kind

        def decide(self, state: Any, data: Any, message: Any, now: Any, terms: Any) -> Any:
            if getattr(getattr(message, "actor", None), "name", None) in failing:
                raise RuntimeError("a bug in decide")
            return self.kind.decide(state, data, message, now, terms)

    def kind(workflow_type: str) -> Any:
        return Faulty(real_kind(workflow_type))

    registry.kind = kind  # type: ignore[assignment]
    try:
        yield failing
    finally:
        registry.kind = real_kind  # type: ignore[assignment]


async def test_a_refused_and_a_failing_message_leave_the_rest_of_their_batch_applied(
    pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
    decide_fails_for: set[str],
) -> None:
    a, b, c, d = (uuid.uuid4() for _ in range(4))
    broken = disposition_notice(company, c)
    broken = broken.model_copy(update={"actor": ActorIn(party="owner", name="Faulty")})
    decide_fails_for.add("Faulty")
    batch = [
        disposition_notice(company, a),
        # b has no notice yet: a waiver there is refused (no election is open), recorded.
        command(
            company,
            b,
            "waive_rofr",
            "company",
            notice={"method": "personal", "delivered_at": NOW.isoformat()},
        ),
        broken,  # raises in decide
        assign(company, c, 2),  # behind the failure, on the same workflow: held, not tried
        disposition_notice(company, d),
        assign(company, a, 3),  # a, started earlier in this batch, goes on
    ]
    results = await apply_batch(pool, batch, clock, catalog)

    assert [getattr(r, "status", type(r).__name__) for r in results] == [
        "applied", "refused", "RuntimeError", "Held", "applied", "applied",
    ]  # fmt: skip
    assert isinstance(results[3], Held)
    assert await versions(pool, a) == [1, 2] and await assignees(pool, a) == ["assignee 03"]
    assert await versions(pool, d) == [1]
    assert await versions(pool, c) == [] and await versions(pool, b) == []
    inbox = await pool.fetch("SELECT message_id, outcome FROM inbox WHERE company_id = $1", company)
    assert sorted((r["message_id"], r["outcome"]) for r in inbox) == sorted(
        [(batch[0].message_id, "applied"), (batch[1].message_id, "refused"),
         (batch[4].message_id, "applied"), (batch[5].message_id, "applied")]
    )  # fmt: skip
    assert (await verify_chain(pool, company)).ok

    # Fixed, the failed message and the one held behind it apply, in that order.
    decide_fails_for.clear()
    retried = await apply_batch(pool, [broken, batch[3]], clock, catalog)
    assert [r.status for r in retried if isinstance(r, Outcome)] == ["applied", "applied"]
    assert await versions(pool, c) == [1, 2] and await assignees(pool, c) == ["assignee 02"]


async def test_a_message_the_database_refuses_fails_alone_and_the_batch_applies_the_rest(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    a, b, c = (uuid.uuid4() for _ in range(3))
    blocked = disposition_notice(company, b)
    # Occupy the id of its last event: the batch's write fails, then each is tried alone.
    await pool.execute(
        "INSERT INTO outbox (company_id, exchange, routing_key, message_id, body) "
        "VALUES ('someone-else', 'events', 'x', $1, '{}')",
        event_id(company, blocked.message_id, 2),
    )
    batch = [disposition_notice(company, a), blocked, assign(company, b, 1)]
    batch.append(disposition_notice(company, c))
    results = await apply_batch(pool, batch, clock, catalog)

    assert isinstance(results[1], asyncpg.UniqueViolationError)
    assert isinstance(results[2], Held)  # never applied before the message it followed
    assert [r.status for r in (results[0], results[3]) if isinstance(r, Outcome)] == [
        "applied", "applied",
    ]  # fmt: skip
    assert await versions(pool, b) == []
    assert await versions(pool, a) == [1] and await versions(pool, c) == [1]


async def test_a_message_twice_in_a_batch_and_again_later_has_one_effect(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    a = uuid.uuid4()
    start, first = disposition_notice(company, a), assign(company, a, 1)
    results = await apply_batch(pool, [start, first, start, first, assign(company, a, 2)],
                                clock, catalog)  # fmt: skip
    statuses = [r.status for r in results if isinstance(r, Outcome)]
    assert statuses == ["applied", "applied", "duplicate", "duplicate", "applied"]
    assert isinstance(results[2], Outcome) and isinstance(results[0], Outcome)
    assert (results[2].version, results[2].events) == (1, results[0].events)
    assert await versions(pool, a) == [1, 2, 3]
    assert await assignees(pool, a) == ["assignee 01", "assignee 02"]

    again = await apply(pool, first, clock, catalog)  # a later batch: the inbox answers
    assert (again.status, again.version) == ("duplicate", 2)
    assert [e["event_id"] for e in again.events] == [
        e["event_id"]
        for e in results[1].events  # type: ignore[union-attr]
    ]
    assert await versions(pool, a) == [1, 2, 3]
    count = await pool.fetchval("SELECT count(*) FROM inbox WHERE company_id = $1", company)
    assert count == 3


async def test_the_messages_of_one_workflow_chain_in_arrival_order_within_a_batch(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    ids = [uuid.uuid4() for _ in range(3)]
    batch: list[CommandMessage] = [disposition_notice(company, w) for w in ids]
    batch += [assign(company, w, n) for n in range(10) for w in ids]  # interleaved
    results = await apply_batch(pool, batch, clock, catalog)
    assert {getattr(r, "status", None) for r in results} == {"applied"}
    for w in ids:
        assert await versions(pool, w) == list(range(1, 12))
        assert await assignees(pool, w) == [f"assignee {n:02d}" for n in range(10)]
    assert (await verify_chain(pool, company)).ok


async def test_a_batchs_events_reach_the_outbox_in_the_order_they_happened(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    """Applied messages (whose events the outbox takes from their history rows) and refused
    ones (whose event has a text of its own) interleaved over two workflows: the relay, which
    publishes in the outbox's order, sends every event once, as recorded, in the order of the
    batch."""
    a, b = uuid.uuid4(), uuid.uuid4()
    waiver = {"method": "personal", "delivered_at": NOW.isoformat()}
    batch = [
        disposition_notice(company, a),
        command(company, b, "waive_rofr", "company", notice=waiver),  # refused: no notice yet
        assign(company, a, 1),
        disposition_notice(company, b),
        command(company, a, "assign_rofr", "owner", assignee="x"),  # refused: not the owner's
        assign(company, b, 2),
        assign(company, a, 3),
    ]
    results = await apply_batch(pool, batch, clock, catalog)
    statuses = [getattr(r, "status", None) for r in results]
    assert statuses == ["applied", "refused", "applied", "applied", "refused", "applied", "applied"]
    expected = [e for r in results if isinstance(r, Outcome) for e in r.events]

    outbox = await pool.fetch(
        "SELECT workflow_id, exchange, routing_key, message_id, body::text AS body FROM outbox "
        "WHERE company_id = $1 ORDER BY id",
        company,
    )
    assert [r["message_id"] for r in outbox] == [e["event_id"] for e in expected]
    assert [json.loads(r["body"]) for r in outbox] == expected
    assert [(r["workflow_id"], r["exchange"], r["routing_key"]) for r in outbox] == [
        (uuid.UUID(e["workflow_id"]), "events", f"event.{company}.rofr.{e['type']}")
        for e in expected
    ]
    # An applied message's events are published as its history row recorded them, text for text.
    recorded = await pool.fetch(
        "SELECT e.body::text AS body FROM history h, json_array_elements(h.events) AS e(body) "
        "WHERE h.company_id = $1",
        company,
    )
    assert {r["body"] for r in recorded} <= {r["body"] for r in outbox}
    applied = [r for r in results if isinstance(r, Outcome) and r.status == "applied"]
    assert len(recorded) == sum(len(r.events) for r in applied)


# -- two processes --------------------------------------------------------------------------


def _process(url: str, batches: list[list[CommandMessage]], start: Any) -> None:
    asyncio.run(_apply_batches(url, batches, start))


async def _apply_batches(url: str, batches: list[list[CommandMessage]], start: Any) -> None:
    from services.store.db import connect

    pool = await connect(url, max_size=2)
    try:
        clock = SimulatedClock(pool)
        await asyncio.to_thread(start.wait)
        for batch in batches:
            for result in await apply_batch(pool, batch, clock, TermsCatalog()):
                assert isinstance(result, Outcome) and result.status == "applied", result
    finally:
        await pool.close()


async def test_two_processes_batching_over_the_same_workflows_keep_versions_contiguous(
    pool: asyncpg.Pool,
    database_url: str,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
) -> None:
    ids = [uuid.uuid4() for _ in range(6)]
    await apply_batch(pool, [disposition_notice(company, w) for w in ids], clock, catalog)
    # Each process sends every workflow its own numbered assignments, in batches of 8.
    mine = {p: [assign(company, w, 10 * p + n) for n in range(10) for w in ids] for p in (1, 2)}
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(3, timeout=120)
    processes = [
        context.Process(
            target=_process,
            args=(database_url, [mine[p][k : k + 8] for k in range(0, len(mine[p]), 8)], start),
        )
        for p in (1, 2)
    ]
    for p in processes:
        p.start()
    await asyncio.to_thread(start.wait)
    for p in processes:
        await asyncio.to_thread(p.join, 300)
        assert p.exitcode == 0

    for w in ids:
        assert await versions(pool, w) == list(range(1, 22))  # no gap, no version twice
        applied = await assignees(pool, w)
        for p in (1, 2):  # each process's messages in the order it sent them
            assert [a for a in applied if a.startswith(f"assignee {p}")] == [
                f"assignee {10 * p + n:02d}" for n in range(10)
            ]
    assert (await verify_chain(pool, company)).ok
