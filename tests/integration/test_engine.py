"""The path of a command through the engine, on the real PostgreSQL and the real ROFR workflow.

What a user relies on: a command commits state, history, events and deadlines together or not
at all; a message delivered three times has one effect; a refused command changes nothing but
says why; two replicas never both apply conflicting commands; one company never sees another's.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import Outcome, apply, apply_batch
from services.engine.events import event_id
from services.store import queries, register_company
from services.store.canonical import canonical_json
from services.store.db import connect
from services.store.history import verify_chain
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, TimerMessage
from workflows.rofr.context import ELECTION

NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}
SIGNED = [{"party": "owner", "name": "Holder One"}, {"party": "transferee", "name": "Buyer"}]
TERMS = "fmp-1998-nso"


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
    company_id = f"acme-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, TERMS, "Acme, Inc.")
    return company_id


@pytest.fixture
async def replica(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A second engine's pool, as a second replica would have."""
    other = await connect(database_url)
    yield other
    await other.close()


def command(
    company: str,
    workflow_id: uuid.UUID,
    name: str,
    party: str,
    message_id: str | None = None,
    **payload: Any,
) -> CommandMessage:
    return CommandMessage(
        message_id=message_id or str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        command=name,
        actor={"party": party},
        payload=payload,
    )


def disposition_notice(company: str, workflow_id: uuid.UUID, **kw: Any) -> CommandMessage:
    return command(
        company, workflow_id, "deliver_transfer_notice", "owner",
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration={"form": "cash", "price_per_share": "2.50"},
        compliance_proof="opinion of counsel", notice=NOTICE, **kw,
    )  # fmt: skip


async def started(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> uuid.UUID:
    workflow_id = uuid.uuid4()
    outcome = await apply(pool, disposition_notice(company, workflow_id), clock, catalog)
    assert outcome.status == "applied", outcome.refusal
    return workflow_id


async def snapshot(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> dict[str, Any]:
    """Everything a command may change, except the outbox."""
    workflow = await pool.fetchrow(
        "SELECT state, version, data, final, head_hash FROM workflows WHERE workflow_id = $1",
        workflow_id,
    )
    history = await pool.fetch(
        "SELECT seq, hash FROM history WHERE workflow_id = $1 ORDER BY seq", workflow_id
    )
    timers = await pool.fetch(
        "SELECT timer_id, name, status FROM timers WHERE workflow_id = $1 ORDER BY timer_id",
        workflow_id,
    )
    return {
        "workflow": dict(workflow) if workflow else None,
        "history": [tuple(r) for r in history],
        "timers": [tuple(r) for r in timers],
    }


async def outbox(pool: asyncpg.Pool, company: str) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT routing_key, message_id, body, exchange FROM outbox WHERE company_id = $1 "
        "ORDER BY id",
        company,
    )


async def test_a_command_commits_state_history_events_and_deadlines_together(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    workflow_id = uuid.uuid4()
    message = disposition_notice(company, workflow_id)
    outcome = await apply(pool, message, clock, catalog)

    assert (outcome.status, outcome.state, outcome.version) == ("applied", "election_window", 1)
    types = [e["type"] for e in outcome.events]
    assert types == ["transfer_notice_received", "election_window_opened", "deadline_set"]
    found = await queries.get_workflow(pool, company, workflow_id)
    assert found is not None
    assert (found["state"], found["version"], found["terms_id"]) == ("election_window", 1, TERMS)
    assert found["terms"] == catalog.raw(TERMS)  # pinned at start, exactly as the catalog has it
    [row] = found["history"]
    assert (row["seq"], row["state_from"], row["state_to"]) == (1, None, "election_window")
    assert row["events"] == outcome.events and row["prev_hash"] == "0" * 64
    [deadline] = found["deadlines"]
    assert (deadline["name"], deadline["party"]) == (ELECTION, "company")
    assert deadline["clause"] == "FMP §6(d)(iii)" and "30 days" in deadline["derivation"]
    deadline_set = dict(outcome.events[-1]["payload"])
    assert datetime.fromisoformat(deadline_set.pop("due_at")) == deadline["due_at"]
    assert deadline_set == {
        "timer": ELECTION, "timer_id": str(deadline["timer_id"]), "party": "company",
        "action": deadline["action"], "clause": deadline["clause"],
        "derivation": deadline["derivation"],
    }  # fmt: skip

    events = await outbox(pool, company)
    assert [r["routing_key"] for r in events] == [f"event.{company}.rofr.{t}" for t in types]
    assert [r["body"] for r in events] == outcome.events
    assert {r["exchange"] for r in events} == {"events"}
    assert [r["message_id"] for r in events] == [
        event_id(company, message.message_id, i) for i in range(3)
    ]
    assert all(r["body"]["caused_by"] == message.message_id for r in events)
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok


async def test_a_start_pins_the_terms_document_even_after_a_caller_changed_its_copy(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    copy = catalog.raw(TERMS)
    copy["rofr"]["election_window"]["days"] = 1  # a caller's copy is its own
    workflow_id = uuid.uuid4()
    assert (await apply(pool, disposition_notice(company, workflow_id), clock, catalog)).state
    # The document as the terms model writes it: a copy changed elsewhere pins nothing.
    document = canonical_json(TermsCatalog().get(TERMS).model_dump(mode="json"))
    pinned_as_written = await pool.fetchval(
        "SELECT d.terms = $2::text::jsonb FROM workflows w "
        "JOIN terms_documents d ON d.digest = w.terms_digest WHERE w.workflow_id = $1",
        workflow_id,
        document,
    )
    assert pinned_as_written is True
    found = await queries.get_workflow(pool, company, workflow_id)
    assert found is not None and found["terms"] == catalog.raw(TERMS) != copy


async def test_a_failure_while_writing_leaves_nothing_and_the_message_can_be_retried(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    workflow_id = uuid.uuid4()
    message = disposition_notice(company, workflow_id)
    # Occupy the id of the transaction's last event, so its last write fails.
    blocker = event_id(company, message.message_id, 2)
    await pool.execute(
        "INSERT INTO outbox (company_id, exchange, routing_key, message_id, body) "
        "VALUES ('someone-else', 'events', 'x', $1, '{}')",
        blocker,
    )
    with pytest.raises(asyncpg.UniqueViolationError):
        await apply(pool, message, clock, catalog)
    assert await snapshot(pool, workflow_id) == {"workflow": None, "history": [], "timers": []}
    assert await outbox(pool, company) == []
    assert await pool.fetchval("SELECT count(*) FROM inbox WHERE company_id = $1", company) == 0

    await pool.execute("DELETE FROM outbox WHERE message_id = $1", blocker)
    assert (await apply(pool, message, clock, catalog)).status == "applied"


async def test_a_message_delivered_three_times_has_one_effect(
    pool: asyncpg.Pool,
    replica: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
) -> None:
    start = disposition_notice(company, uuid.uuid4())
    workflow_id = start.workflow_id
    await apply(pool, start, clock, catalog)
    waive = command(company, workflow_id, "waive_rofr", "company", notice=NOTICE)

    outcomes = await asyncio.gather(
        apply(pool, waive, clock, catalog),
        apply(replica, waive, clock, catalog),
        apply(pool, waive, clock, catalog),
    )
    assert sorted(o.status for o in outcomes) == ["applied", "duplicate", "duplicate"]
    applied = next(o for o in outcomes if o.status == "applied")
    for o in outcomes:  # every delivery gets the same answer
        assert (o.state, o.version, o.events) == (applied.state, 2, applied.events)
    after = await snapshot(pool, workflow_id)
    assert after["workflow"]["version"] == 2 and len(after["history"]) == 2
    assert len(await outbox(pool, company)) == 3 + len(applied.events)

    again = await apply(pool, start, clock, catalog)  # the first command, redelivered late
    assert (again.status, again.state, again.version) == ("duplicate", "election_window", 1)
    assert await snapshot(pool, workflow_id) == after


async def test_a_refused_command_changes_nothing_and_says_which_rule(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    workflow_id = await started(pool, clock, catalog, company)
    before, sent_before = await snapshot(pool, workflow_id), len(await outbox(pool, company))
    # FMP §6(d)(iii): the company, not the owner, exercises the right.
    exercise = command(company, workflow_id, "exercise_rofr", "owner", notice=NOTICE)

    outcome = await apply(pool, exercise, clock, catalog)
    assert (outcome.status, outcome.state, outcome.version) == ("refused", "election_window", 1)
    assert outcome.refusal is not None and outcome.refusal["code"] == "not_authorised"
    assert outcome.refusal["rule"].startswith("FMP §6(d)")
    assert await snapshot(pool, workflow_id) == before
    [refused] = (await outbox(pool, company))[sent_before:]
    assert refused["routing_key"] == f"event.{company}.rofr.command_refused"
    # ... with the status HTTP gives the same refusal: a rule of the terms, 409.
    assert refused["body"]["payload"] == {
        **outcome.refusal, "command": "exercise_rofr", "status": 409,
    }  # fmt: skip

    again = await apply(pool, exercise, clock, catalog)
    assert (again.status, again.refusal, again.events) == (
        "duplicate", outcome.refusal, outcome.events,
    )  # fmt: skip
    assert len(await outbox(pool, company)) == sent_before + 1
    assert await snapshot(pool, workflow_id) == before


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"workflow_type": "no_such_workflow"}, "unknown_workflow_type"),
        ({"terms": "no-such-terms"}, "unknown_terms"),
        ({"company_id": "unregistered-co"}, "unregistered_company"),
    ],
)
async def test_a_start_the_engine_cannot_run_is_refused_and_creates_nothing(
    pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
    change: dict[str, str],
    code: str,
) -> None:
    message = disposition_notice(company, uuid.uuid4()).model_copy(update=change)
    outcome = await apply(pool, message, clock, catalog)
    assert (outcome.status, outcome.state, outcome.version) == ("refused", None, 0)
    assert outcome.refusal is not None and outcome.refusal["code"] == code
    assert await snapshot(pool, message.workflow_id) == {
        "workflow": None, "history": [], "timers": [],
    }  # fmt: skip


async def test_a_command_naming_terms_never_creates_a_company(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog
) -> None:
    """A valid command for an unregistered company that named terms was
    applied, so any caller could create companies: it is refused, saying to register first."""
    unregistered = f"newco-{uuid.uuid4().hex[:8]}"
    workflow_id = uuid.uuid4()
    # RD ISO ¶11(b): a Transfer Notice names the transferee's address and both sign it.
    named = command(
        unregistered, workflow_id, "deliver_transfer_notice", "owner",
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC", "address": "1 Main St"},
        consideration={"form": "cash", "price_per_share": "2.50"},
        bona_fide_evidence="signed offer", signed_by=SIGNED, binding_commitment=True,
        notice=NOTICE,
    ).model_copy(update={"terms": "raydream-1992-nso"})  # fmt: skip
    outcome = await apply(pool, named, clock, catalog)

    assert (outcome.status, outcome.state, outcome.version) == ("refused", None, 0)
    assert outcome.refusal is not None
    assert outcome.refusal["code"] == "unregistered_company"
    assert "register" in outcome.refusal["reason"]
    assert await queries.get_workflow(pool, unregistered, workflow_id) is None
    assert (
        await pool.fetchval("SELECT count(*) FROM companies WHERE company_id = $1", unregistered)
        == 0
    )
    assert await snapshot(pool, workflow_id) == {"workflow": None, "history": [], "timers": []}


async def test_two_replicas_never_both_apply_conflicting_commands(
    pool: asyncpg.Pool,
    replica: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
) -> None:
    workflow_id = await started(pool, clock, catalog, company)
    # The same Exercise Notice entered twenty times: only one may take effect. (Two different
    # acts are not "conflicting" this way: one effective before the other is judged in its
    # place whatever the order of entry, and may void it; tests/unit/test_rofr_entry_order.)
    conflicting = [
        command(company, workflow_id, "exercise_rofr", "company", notice=NOTICE) for _ in range(20)
    ]
    outcomes = await asyncio.gather(
        *(apply((pool, replica)[i % 2], m, clock, catalog) for i, m in enumerate(conflicting))
    )
    assert [o.status for o in outcomes].count("applied") == 1
    assert {o.status for o in outcomes} == {"applied", "refused"}
    after = await snapshot(pool, workflow_id)
    assert [seq for seq, _ in after["history"]] == [1, 2]
    assert after["workflow"]["version"] == 2
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok


async def test_concurrent_commands_to_one_workflow_serialise_without_losing_any(
    pool: asyncpg.Pool,
    replica: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
) -> None:
    workflow_id = await started(pool, clock, catalog, company)
    assignments = [
        command(company, workflow_id, "assign_rofr", "company", assignee=f"assignee {i}")
        for i in range(30)
    ]
    outcomes = await asyncio.gather(
        *(apply((pool, replica)[i % 2], m, clock, catalog) for i, m in enumerate(assignments))
    )
    assert {o.status for o in outcomes} == {"applied"}, {
        o.refusal["reason"] for o in outcomes if o.refusal
    }
    assert sorted(o.version for o in outcomes) == list(range(2, 32))
    found = await queries.get_workflow(pool, company, workflow_id)
    assert found is not None and found["version"] == 31
    assert [h["seq"] for h in found["history"]] == list(range(1, 32))
    assert len(found["data"]["assignees"]) == 30
    report = await verify_chain(pool, workflow_id=workflow_id)
    assert report.ok and report.rows_checked == 31


async def test_two_first_commands_for_one_new_workflow_start_it_once(
    pool: asyncpg.Pool,
    replica: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
) -> None:
    workflow_id = uuid.uuid4()
    starts = [disposition_notice(company, workflow_id) for _ in range(8)]
    outcomes = await asyncio.gather(
        *(apply((pool, replica)[i % 2], m, clock, catalog) for i, m in enumerate(starts))
    )
    assert sorted(o.status for o in outcomes) == ["applied"] + ["refused"] * 7
    assert [seq for seq, _ in (await snapshot(pool, workflow_id))["history"]] == [1]


async def test_another_company_can_neither_see_nor_command_a_workflow(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    workflow_id = await started(pool, clock, catalog, company)
    before = await snapshot(pool, workflow_id)
    intruder = f"globex-{uuid.uuid4().hex[:8]}"
    await register_company(pool, intruder, TERMS)

    assert await queries.get_workflow(pool, intruder, workflow_id) is None
    assert await queries.list_workflows(pool, intruder) == []
    assert await queries.list_pending_deadlines(pool, intruder) == []
    assert (await verify_chain(pool, company_id=intruder)).rows_checked == 0
    [mine] = await queries.list_workflows(pool, company)
    assert mine["workflow_id"] == workflow_id

    first_message_id = before_id = (await pool.fetchval(
        "SELECT message_id FROM history WHERE workflow_id = $1 AND seq = 1", workflow_id
    ))  # fmt: skip
    attempts = [
        command(intruder, workflow_id, "waive_rofr", "company", notice=NOTICE),
        disposition_notice(intruder, workflow_id),  # "start" it under the same id
        disposition_notice(intruder, workflow_id).model_copy(  # reuse the owner's message id
            update={"message_id": first_message_id}
        ),
    ]
    for message in attempts:
        outcome = await apply(pool, message, clock, catalog)
        assert (outcome.status, outcome.state, outcome.version) == ("refused", None, 0)
        assert outcome.refusal is not None and outcome.refusal["code"] == "not_found"
        assert all(e["company_id"] == intruder for e in outcome.events)
    assert await snapshot(pool, workflow_id) == before
    assert before_id == first_message_id


async def fire(pool: asyncpg.Pool, timer: Any) -> None:
    """What the deadlines service records once it has published the timer's message."""
    await pool.execute(
        "UPDATE timers SET status = 'fired', fired_at = due_at, refire_at = due_at "
        "WHERE timer_id = $1 AND status = 'pending'",
        timer["timer_id"],
    )


def timer_message(company: str, workflow_id: uuid.UUID, timer: Any) -> TimerMessage:
    return TimerMessage(
        message_id=str(timer["timer_id"]),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        timer=timer["name"],
        due_at=timer["due_at"],
    )


async def test_a_due_timer_applies_once_and_a_replaced_one_is_stale(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    expiring = await started(pool, clock, catalog, company)
    waived = await started(pool, clock, catalog, company)
    [election] = (await queries.get_workflow(pool, company, expiring) or {})["deadlines"]
    [waived_election] = (await queries.get_workflow(pool, company, waived) or {})["deadlines"]
    waive = command(company, waived, "waive_rofr", "company", notice=NOTICE)
    assert (await apply(pool, waive, clock, catalog)).status == "applied"
    await clock.set(election["due_at"] + timedelta(seconds=1))

    before = await snapshot(pool, waived)
    stale = await apply(pool, timer_message(company, waived, waived_election), clock, catalog)
    assert (stale.status, stale.events) == ("stale", [])
    assert await snapshot(pool, waived) == before

    fired = timer_message(company, expiring, election)
    await fire(pool, election)
    outcome = await apply(pool, fired, clock, catalog)
    assert (outcome.status, outcome.state, outcome.version) == ("applied", "owner_sale_window", 2)
    status = await pool.fetchval(
        "SELECT status FROM timers WHERE timer_id = $1", election["timer_id"]
    )
    assert status == "applied"  # the deadlines service stops re-firing it
    assert (await apply(pool, fired, clock, catalog)).status == "duplicate"
    wrong = fired.model_copy(update={"message_id": str(uuid.uuid4())})
    assert (await apply(pool, wrong, clock, catalog)).status == "stale"
    assert (await snapshot(pool, expiring))["workflow"]["version"] == 2


async def test_a_timer_never_starts_a_workflow(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    orphan = {"timer_id": uuid.uuid4(), "name": ELECTION, "due_at": NOW}
    message = timer_message(company, uuid.uuid4(), orphan)
    outcome: Outcome = await apply(pool, message, clock, catalog)
    assert (outcome.status, outcome.state, outcome.version) == ("stale", None, 0)
    assert await snapshot(pool, message.workflow_id) == {
        "workflow": None, "history": [], "timers": [],
    }  # fmt: skip
    recorded = "SELECT count(*) FROM inbox WHERE company_id = $1 AND message_id = $2"
    assert await pool.fetchval(recorded, company, message.message_id) == 0


# -- due timers out of due order --------------------------------------------------------------
# Two deadlines replicas may claim one workflow's timers in separate batches and publish the
# later one first. The later timer's message fires every deadline of the workflow due by its
# time, in due order (FMP §6(d)(iii): the time to agree the value ends before the time to agree
# a joint appraiser); the earlier timer's message, arriving after, finds its timer spent and
# changes nothing. The workflow ends as it would have with the messages in order.

VALUE = "value_agreement_deadline"
JOINT = "joint_appraiser_deadline"
PROPERTY = {"form": "property", "description": "200 shares of Widget Corp. common stock"}


async def non_cash_rofr(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> tuple[uuid.UUID, dict[str, Any]]:
    """FMP §6(d)(ii)–(iii): a notice offering property opens the election and two windows to
    settle the property's cash value. Returns the workflow and its pending timers by name."""
    workflow_id = uuid.uuid4()
    notice = command(
        company, workflow_id, "deliver_transfer_notice", "owner",
        holder="holder-1", shares=100, transferee={"name": "Buyer LLC"},
        consideration=PROPERTY, compliance_proof="opinion of counsel", notice=NOTICE,
    )  # fmt: skip
    outcome = await apply(pool, notice, clock, catalog)
    assert outcome.status == "applied", outcome.refusal
    rows = await pool.fetch(
        "SELECT timer_id, name, due_at FROM timers WHERE workflow_id = $1 AND status = 'pending'",
        workflow_id,
    )
    timers = {r["name"]: r for r in rows}
    assert {VALUE, JOINT} <= set(timers)
    assert timers[VALUE]["due_at"] < timers[JOINT]["due_at"]
    return workflow_id, timers


async def events_of(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> list[str]:
    rows = await pool.fetch(
        "SELECT e->>'type' AS type FROM history h, json_array_elements(h.events) AS e "
        "WHERE h.workflow_id = $1 ORDER BY h.seq",
        workflow_id,
    )
    return [r["type"] for r in rows]


def rule_events(types: list[str]) -> list[str]:
    """The rules' events, without the engine's bookkeeping of its timer rows: in order, each
    timer's own message applies it; out of order, the later one's passes the earlier
    (``deadline_passed``)."""
    return [t for t in types if t not in {"deadline_set", "deadline_passed"}]


async def workflow(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> tuple[str, dict[str, Any]]:
    row = await pool.fetchrow(
        "SELECT state, data FROM workflows WHERE workflow_id = $1", workflow_id
    )
    data = dict(row["data"])
    data.pop("timeline")  # how the acts were entered differs; what they decided must not
    return row["state"], data


async def test_a_later_timer_first_fires_the_earlier_in_its_place_and_the_earlier_is_stale(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    in_order, in_order_timers = await non_cash_rofr(pool, clock, catalog, company)
    reversed_, reversed_timers = await non_cash_rofr(pool, clock, catalog, company)
    await clock.set(in_order_timers[JOINT]["due_at"] + timedelta(seconds=1))
    for timers in (in_order_timers, reversed_timers):
        await fire(pool, timers[VALUE])
        await fire(pool, timers[JOINT])

    for name in (VALUE, JOINT):
        message = timer_message(company, in_order, in_order_timers[name])
        assert (await apply(pool, message, clock, catalog)).status == "applied"

    later = await apply(
        pool, timer_message(company, reversed_, reversed_timers[JOINT]), clock, catalog
    )
    assert later.status == "applied"
    earlier = await apply(
        pool, timer_message(company, reversed_, reversed_timers[VALUE]), clock, catalog
    )
    assert (earlier.status, earlier.events) == ("stale", [])
    assert earlier.version == later.version  # nothing recorded after the later one

    assert await workflow(pool, reversed_) == await workflow(pool, in_order)
    # What the rules decided, in due order, whichever message came first.
    assert rule_events(await events_of(pool, reversed_)) == rule_events(
        await events_of(pool, in_order)
    )
    statuses = await pool.fetch(
        "SELECT name, status FROM timers WHERE workflow_id = $1 AND name = ANY($2::text[])",
        reversed_,
        [VALUE, JOINT],
    )
    # Neither is left to fire again: the later one applied, the earlier spent by it; nothing
    # says the earlier deadline was cancelled, for it ran out and took effect.
    assert {r["name"]: r["status"] for r in statuses} == {JOINT: "applied", VALUE: "spent"}
    [passed] = [e["payload"] for e in later.events if e["type"] == "deadline_passed"]
    assert passed["timer_id"] == str(reversed_timers[VALUE]["timer_id"])
    assert "deadline_cancelled" not in await events_of(pool, reversed_)
    assert (await verify_chain(pool, workflow_id=reversed_)).ok  # the history accounts for it


def third_party_sale(company: str, workflow_id: uuid.UUID, sold_at: datetime) -> CommandMessage:
    return command(
        company, workflow_id, "report_third_party_sale", "owner",
        buyer={"name": "Bob Buyer"}, shares=100, price_per_share="2.50",
        sold_at=sold_at.isoformat(), compliance=FMP_COMPLIANCE,
    )  # fmt: skip


FMP_COMPLIANCE = {  # FMP §6(d)(iv): a sale not in contravention of §6(g), §6(h)
    "securities_act": "exempt",
    "exemption": "Securities Act §4(a)(1)",
    "state_law": "exempt",
    "s_corporation": "not_an_s_corporation",
}


async def test_an_act_effective_after_a_deadline_its_message_has_not_applied_spends_it(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    """FMP §6(d)(iii)-(iv): the owner's sale, made after the company's 30 days ended, is
    judged after them though the election timer's message has not reached the engine: the
    deadline passes in its place, its timer is spent (``deadline_passed``, not cancelled), and
    its message, when it comes, is stale. The audit accounts for a spent timer, and finds one
    spent, or revived, behind its history's back."""
    workflow_id = await started(pool, clock, catalog, company)
    untouched = await started(pool, clock, catalog, company)
    [election] = (await queries.get_workflow(pool, company, workflow_id) or {})["deadlines"]
    await clock.set(election["due_at"] + timedelta(days=4))
    await fire(pool, election)  # published by the deadlines service, still in flight

    sale = third_party_sale(company, workflow_id, election["due_at"] + timedelta(days=3))
    outcome = await apply(pool, sale, clock, catalog)
    assert (outcome.status, outcome.state) == ("applied", "sold_to_third_party"), outcome.refusal
    types = [e["type"] for e in outcome.events]
    assert types[:2] == ["election_window_expired", "sale_window_opened"]
    assert "deadline_cancelled" not in types
    [passed] = [e["payload"] for e in outcome.events if e["type"] == "deadline_passed"]
    assert (passed["timer_id"], passed["clause"]) == (str(election["timer_id"]), "FMP §6(d)(iii)")
    status = "SELECT status FROM timers WHERE timer_id = $1"
    assert await pool.fetchval(status, election["timer_id"]) == "spent"

    before = await snapshot(pool, workflow_id)
    late = await apply(pool, timer_message(company, workflow_id, election), clock, catalog)
    assert (late.status, late.events) == ("stale", [])
    assert await snapshot(pool, workflow_id) == before
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok

    # Reported before the deadlines service fired the deadline at all: spent, never fired.
    unfired = await started(pool, clock, catalog, company)
    [its] = (await queries.get_workflow(pool, company, unfired) or {})["deadlines"]
    sale = third_party_sale(company, unfired, its["due_at"] + timedelta(days=3))
    assert (await apply(pool, sale, clock, catalog)).state == "sold_to_third_party"
    # No longer pending: the deadlines service, which claims pending rows only, never fires it.
    assert await pool.fetchval(status, its["timer_id"]) == "spent"
    revive = "UPDATE timers SET status = 'fired' WHERE timer_id = $1"
    await pool.execute(revive, election["timer_id"])
    await pool.execute("UPDATE timers SET status = 'spent' WHERE workflow_id = $1", untouched)
    reasons = [b.reason for b in (await verify_chain(pool, company_id=company)).breaks]
    assert any("(election_deadline) was spent by its history but is fired (revived)" in r
               for r in reasons), reasons  # fmt: skip
    assert any("(election_deadline) is spent but no history row passed it (deadline "
               "suppressed)" in r for r in reasons), reasons  # fmt: skip


async def test_a_deadline_set_and_passed_in_one_batch_is_written_spent(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    """A notice entered a month late and the sale after it, in one batch: the election timer
    the first message sets is spent by the second before either is written."""
    await clock.set(NOW + timedelta(days=34))  # past the company's 30 days (FMP §6(d)(iii))
    workflow_id = uuid.uuid4()
    sale = third_party_sale(company, workflow_id, NOW + timedelta(days=33))
    started_, sold = await apply_batch(
        pool, [disposition_notice(company, workflow_id), sale], clock, catalog
    )
    assert (started_.status, sold.status, sold.state) == (
        "applied",
        "applied",
        "sold_to_third_party",
    )
    [set_] = [e["payload"] for e in started_.events if e["type"] == "deadline_set"]
    [passed] = [e["payload"] for e in sold.events if e["type"] == "deadline_passed"]
    assert passed["timer_id"] == set_["timer_id"]
    rows = await pool.fetch("SELECT status FROM timers WHERE workflow_id = $1", workflow_id)
    assert [r["status"] for r in rows] == ["spent"]
    assert (await verify_chain(pool, workflow_id=workflow_id)).ok
