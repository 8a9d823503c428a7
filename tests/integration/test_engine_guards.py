"""What a message may not do to a workflow, whoever can publish it.

FMP §6(d)(iii): the Company's 30-day election window closes when its deadline passes, not when
someone says so. A timer message is the deadlines service's word that a deadline has passed:
one sent early, or naming another due time, changes nothing, and the genuine one still takes
effect. A command can neither take a timer's place in the inbox nor choose the agreement its
workflow runs under, and its refusal never tells whether a workflow id exists elsewhere.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from services.bus.runner import running_bus
from services.bus.tap import take
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.deadlines import fire_due_timers
from services.engine import Outcome, apply
from services.store import register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage, TimerBundle, TimerMessage

NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
NOTICE = {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"}
SIGNED = [{"party": "owner", "name": "Holder One"}, {"party": "transferee", "name": "Buyer"}]
PAST_ELECTION = timedelta(days=31)  # the window closes at the end of 2026-04-01, PT


@pytest.fixture
async def clock(fresh_pool: asyncpg.Pool) -> SimulatedClock:
    simulated = SimulatedClock(fresh_pool)
    await simulated.set(NOW)
    return simulated


@pytest.fixture
async def company(fresh_pool: asyncpg.Pool) -> str:
    await register_company(fresh_pool, "fmp", "fmp-1998-nso", "FMP")
    return "fmp"


def _command(
    company: str, workflow_id: uuid.UUID, name: str, party: str, **fields: Any
) -> CommandMessage:
    return CommandMessage(
        message_id=fields.pop("message_id", None) or str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        command=name,
        actor={"party": party},
        terms=fields.pop("terms", None),
        payload=fields,
    )


def _notice(company: str, workflow_id: uuid.UUID, **fields: Any) -> CommandMessage:
    notice: dict[str, Any] = {
        "holder": "Olivia Owner", "shares": 1000, "transferee": {"name": "Bob Buyer"},
        "consideration": {"form": "cash", "price_per_share": "2.50"},
        "compliance_proof": "opinion of counsel", "notice": NOTICE,
    }  # fmt: skip
    return _command(company, workflow_id, "deliver_disposition_notice", "owner",
                    **{**notice, **fields})  # fmt: skip


async def _election_open(
    pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> tuple[uuid.UUID, dict[str, Any]]:
    """A transfer whose election window is open, and its election deadline as an integration
    sees it (the ``deadline_set`` event)."""
    workflow_id = uuid.uuid4()
    outcome = await apply(pool, _notice(company, workflow_id), clock, catalog)
    assert outcome.state == "election_window", outcome.refusal
    [deadline_set] = [e for e in outcome.events if e["type"] == "deadline_set"]
    return workflow_id, deadline_set["payload"]


def _timer(company: str, workflow_id: uuid.UUID, deadline: dict[str, Any]) -> TimerMessage:
    return TimerMessage(
        message_id=deadline["timer_id"],
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        timer=deadline["timer"],
        due_at=datetime.fromisoformat(deadline["due_at"]),
    )


async def _fired_by_the_deadlines_service(
    pool: asyncpg.Pool, clock: SimulatedClock, amqp_url: str, topology: Topology
) -> TimerMessage:
    """The deadlines service fires what is due; its message, taken off the engine queue."""
    async with running_bus(amqp_url, topology) as bus:  # no engine consuming
        assert await fire_due_timers(pool, clock, bus.publisher, topology) == 1
    fired = await pool.fetchval("SELECT workflow_id FROM timers WHERE status = 'fired'")
    [bundle] = await take(amqp_url, topology.engine_queue_of(fired).name, 1)
    [message] = TimerBundle.model_validate_json(bundle.body).timers
    return message


async def _everything(pool: asyncpg.Pool, workflow_id: uuid.UUID) -> dict[str, Any]:
    """All a message could change: the workflow, its history, its timers, inbox and outbox."""
    return {
        "workflow": await pool.fetch(
            "SELECT state, version, head_hash FROM workflows WHERE workflow_id = $1", workflow_id
        ),
        "history": await pool.fetch(
            "SELECT seq, hash FROM history WHERE workflow_id = $1 ORDER BY seq", workflow_id
        ),
        "timers": await pool.fetch(
            "SELECT timer_id, status FROM timers WHERE workflow_id = $1 ORDER BY timer_id",
            workflow_id,
        ),
        "inbox": await pool.fetch("SELECT * FROM inbox ORDER BY received_at, message_id"),
        "outbox": await pool.fetchval("SELECT count(*) FROM outbox"),
    }


# -- 1. A deadline passes when it passes --------------------------------------------------------


async def test_a_timer_message_sent_before_its_timer_fires_changes_nothing(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
    amqp_url: str,
    topology: Topology,
    caplog: pytest.LogCaptureFixture,
) -> None:
    workflow_id, election = await _election_open(fresh_pool, clock, catalog, company)
    forged = _timer(company, workflow_id, election)  # its exact id and due time
    before = await _everything(fresh_pool, workflow_id)

    early = await apply(fresh_pool, forged, clock, catalog)  # 30 days early
    assert (early.status, early.state, early.version) == ("stale", "election_window", 1)
    assert early.events == []
    assert await _everything(fresh_pool, workflow_id) == before
    [warning] = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "has not fired (it is pending); nothing recorded" in warning.getMessage()

    await clock.advance(PAST_ELECTION)  # due, but the deadlines service has not fired it yet
    assert (await apply(fresh_pool, forged, clock, catalog)).status == "stale"
    assert await _everything(fresh_pool, workflow_id) == before

    genuine = await _fired_by_the_deadlines_service(fresh_pool, clock, amqp_url, topology)
    assert genuine == forged
    outcome = await apply(fresh_pool, genuine, clock, catalog)
    assert (outcome.status, outcome.state) == ("applied", "owner_sale_window")
    assert "election_window_expired" in [e["type"] for e in outcome.events]


async def test_a_timer_message_naming_another_due_time_changes_nothing(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
    amqp_url: str,
    topology: Topology,
) -> None:
    workflow_id, _ = await _election_open(fresh_pool, clock, catalog, company)
    await clock.advance(PAST_ELECTION)
    genuine = await _fired_by_the_deadlines_service(fresh_pool, clock, amqp_url, topology)
    before = await _everything(fresh_pool, workflow_id)

    for due_at in (genuine.due_at - timedelta(days=10), genuine.due_at + timedelta(seconds=1)):
        wrong = genuine.model_copy(update={"due_at": due_at})
        outcome = await apply(fresh_pool, wrong, clock, catalog)
        assert (outcome.status, outcome.state, outcome.events) == ("stale", "election_window", [])
        assert await _everything(fresh_pool, workflow_id) == before  # the timer is still fired

    # The same instant written in the company's zone is the same due time.
    pacific = genuine.due_at.astimezone(ZoneInfo("America/Los_Angeles"))
    outcome = await apply(
        fresh_pool, genuine.model_copy(update={"due_at": pacific}), clock, catalog
    )
    assert (outcome.status, outcome.state) == ("applied", "owner_sale_window")
    assert (await apply(fresh_pool, genuine, clock, catalog)).status == "duplicate"


async def test_timer_ids_cannot_be_derived_from_the_command_that_set_them(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    await register_company(fresh_pool, "other", "fmp-1998-nso")
    one, two = uuid.uuid4(), uuid.uuid4()
    await apply(fresh_pool, _notice(company, one, message_id="same-id"), clock, catalog)
    await apply(fresh_pool, _notice("other", two, message_id="same-id"), clock, catalog)
    ids = await fresh_pool.fetch(
        "SELECT timer_id FROM timers WHERE workflow_id = ANY($1)", [one, two]
    )
    assert len(ids) == 2 and all(r["timer_id"].version == 4 for r in ids)


# -- 2. The registered terms govern ------------------------------------------------------------


async def test_a_start_naming_terms_other_than_the_registered_ones_is_refused(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    # A notice that would do under either agreement (RD ISO ¶11(b) also wants these).
    chosen = _notice(
        company, uuid.uuid4(), terms="raydream-1992-iso",
        transferee={"name": "Bob Buyer", "address": "1 Main St"},
        bona_fide_evidence="signed offer", signed_by=SIGNED, binding_commitment=True,
    )  # fmt: skip
    outcome = await apply(fresh_pool, chosen, clock, catalog)
    assert (outcome.status, outcome.state, outcome.version) == ("refused", None, 0)
    assert outcome.refusal == {
        "rule": "equityflow engine",
        "reason": "company fmp is registered under fmp-1998-nso; the command names "
        "raydream-1992-iso",
        "code": "terms_mismatch",
    }
    assert await fresh_pool.fetchval("SELECT count(*) FROM workflows") == 0

    same = _notice(company, uuid.uuid4(), terms="fmp-1998-nso")
    assert (await apply(fresh_pool, same, clock, catalog)).status == "applied"
    pinned = await fresh_pool.fetchval(
        "SELECT terms_id FROM workflows WHERE workflow_id = $1", same.workflow_id
    )
    assert pinned == "fmp-1998-nso"


# -- 3. A command never takes a timer's place --------------------------------------------------


async def test_a_command_carrying_a_timer_s_id_never_stops_its_deadline(
    fresh_pool: asyncpg.Pool,
    clock: SimulatedClock,
    catalog: TermsCatalog,
    company: str,
    amqp_url: str,
    topology: Topology,
) -> None:
    workflow_id, election = await _election_open(fresh_pool, clock, catalog, company)
    timer_id = election["timer_id"]  # published in the deadline_set event
    # FMP §6(d)(iii) lets the company assign its right: applied, with events of its own.
    assign = _command(company, workflow_id, "assign_rofr", "company", message_id=timer_id,
                      assignee="Assignee LLC")  # fmt: skip
    assigned = await apply(fresh_pool, assign, clock, catalog)
    assert (assigned.status, assigned.version) == ("applied", 2), assigned.refusal
    elsewhere = _command(company, uuid.uuid4(), "waive_rofr", "company", message_id=timer_id)
    assert (await apply(fresh_pool, elsewhere, clock, catalog)).status == "duplicate"

    await clock.advance(PAST_ELECTION)
    fired = await _fired_by_the_deadlines_service(fresh_pool, clock, amqp_url, topology)
    assert fired.message_id == timer_id
    expired = await apply(fresh_pool, fired, clock, catalog)
    assert (expired.status, expired.state, expired.version) == ("applied", "owner_sale_window", 3)
    status = await fresh_pool.fetchval(
        "SELECT status FROM timers WHERE timer_id = $1::uuid", timer_id
    )
    assert status == "applied"

    # Each redelivery gets its own first answer back.
    again = await apply(fresh_pool, assign, clock, catalog)
    assert (again.status, again.version, again.events) == ("duplicate", 2, assigned.events)
    late = await apply(fresh_pool, fired, clock, catalog)
    assert (late.status, late.version, late.events) == ("duplicate", 3, expired.events)
    assert not {e["event_id"] for e in assigned.events} & {e["event_id"] for e in expired.events}


# -- 5. An id that exists elsewhere looks like one that exists nowhere -------------------------


async def test_a_command_to_a_missing_workflow_is_not_found_as_in_another_company(
    fresh_pool: asyncpg.Pool, clock: SimulatedClock, catalog: TermsCatalog, company: str
) -> None:
    await register_company(fresh_pool, "prober", "fmp-1998-nso")
    theirs, _ = await _election_open(fresh_pool, clock, catalog, company)
    nowhere = uuid.uuid4()

    answers: list[Outcome] = []
    for workflow_id in (theirs, nowhere):
        exercise = _command("prober", workflow_id, "exercise_rofr", "company", notice=NOTICE)
        answers.append(await apply(fresh_pool, exercise, clock, catalog))
    for outcome, workflow_id in zip(answers, (theirs, nowhere), strict=True):
        assert (outcome.status, outcome.state, outcome.version) == ("refused", None, 0)
        assert outcome.refusal == {
            "rule": "equityflow engine",
            "reason": f"no workflow {workflow_id} in company prober",
            "code": "not_found",
        }
    assert await fresh_pool.fetchval(
        "SELECT count(*) FROM workflows WHERE workflow_id = $1", nowhere
    ) == 0  # fmt: skip
