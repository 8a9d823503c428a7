"""The register view through the engine, on the real PostgreSQL: a grant checked against the
Board's FMV in the valuation register and its plan's reserve; a termination deciding on its
grant's facts; the termination telling its grant, as a message of its own applied once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from services.engine import Outcome, apply, apply_batch
from services.store import register_company
from services.store.db import connect
from services.store.registers import Plan, Valuation, record_plan, record_valuation
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage

TERMS = "raydream-1992-iso"
BR = "BR-1993-02 (Board, good faith)"


class Clock:
    """A fixed time for the engine: what the message is applied at."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    async def now(self) -> datetime:
        return self.at


@pytest.fixture
async def company(pool: asyncpg.Pool) -> str:
    company_id = f"raydream-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, TERMS, "Ray Dream, Inc.")
    await record_plan(pool, company_id, Plan("rd-1992", date(1992, 3, 19), date(1995, 10, 5)),
                      by=None)  # fmt: skip
    await record_valuation(pool, company_id, Valuation(
        date(1993, 2, 15), Decimal("0.20"), "board_good_faith", BR), by=None)  # fmt: skip
    return company_id


def command(company: str, kind: str, workflow_id: uuid.UUID | str, name: str, party: str,
            **payload: Any) -> CommandMessage:  # fmt: skip
    return CommandMessage(
        message_id=f"{name}-{uuid.uuid4()}", company_id=company, workflow_id=workflow_id,
        workflow_type=kind, command=name, actor={"party": party, "reference": "BR-1996-02"},
        payload=payload,
    )  # fmt: skip


def grant_option(company: str, price: str = "0.20", shares: int = 4800) -> CommandMessage:
    return command(
        company, "grant", uuid.uuid4(), "grant_option", "board", optionee="carol",
        plan="rd-1992", shares=shares, exercise_price=price, grant_date="1996-02-29",
        initial_vesting_date="1996-04-30",
    )  # fmt: skip


GRANTED_AT = Clock(datetime(1996, 3, 1, 17, tzinfo=UTC))


async def test_an_rd_grant_is_checked_against_the_fmv_in_the_valuation_register(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    out = await apply(pool, grant_option(company), GRANTED_AT, catalog)
    assert out.status == "applied", out.refusal
    [granted] = [e for e in out.events if e["type"] == "option_granted"]
    assert granted["payload"]["fmv"]["resolution"] == BR
    texts = [c["text"] for c in granted["payload"]["checks"]]
    assert any("100% of the Board's FMV $0.20 (determined 1993-02-15" in t for t in texts), texts
    assert any("4,800 of 506,280 shares free" in t for t in texts), texts


async def test_a_grant_below_the_fmv_is_refused_naming_the_clause_and_the_determination(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    message = grant_option(company, price="0.19")
    out = await apply(pool, message, GRANTED_AT, catalog)
    assert out.status == "refused"
    assert out.refusal is not None and out.refusal["rule"] == "RD Plan ¶6(A)"
    assert "$0.19" in out.refusal["reason"] and BR in out.refusal["reason"]
    found = await pool.fetchval("SELECT count(*) FROM workflows WHERE workflow_id = $1",
                                message.workflow_id)  # fmt: skip
    assert found == 0


async def test_grants_in_one_batch_share_the_plan_reserve(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    """RD Plan ¶4: the second grant of a batch sees the first's shares committed."""
    first, second = grant_option(company, shares=500_000), grant_option(company, shares=10_000)
    outs = await apply_batch(pool, [first, second], GRANTED_AT, catalog)
    assert isinstance(outs[0], Outcome) and outs[0].status == "applied"
    assert isinstance(outs[1], Outcome) and outs[1].status == "refused"
    assert "500,000 are committed: 6,280 may be granted" in outs[1].refusal["reason"]  # type: ignore[index]


async def _sent(pool: asyncpg.Pool, company: str, cause: str) -> list[CommandMessage]:
    rows = await pool.fetch(
        "SELECT body FROM outbox WHERE company_id = $1 AND exchange = 'commands' "
        "AND body->'caused_by'->>'message_id' = $2 ORDER BY id",
        company, cause,
    )  # fmt: skip
    return [CommandMessage.model_validate(r["body"]) for r in rows]


async def test_a_termination_reads_its_grant_and_tells_it_once(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    grant = grant_option(company)
    assert (await apply(pool, grant, GRANTED_AT, catalog)).status == "applied"
    end = command(company, "termination", uuid.uuid4(), "terminate_service", "company",
                  grant=str(grant.workflow_id), reason="without_cause",
                  terminated_on="1997-06-15")  # fmt: skip
    out = await apply(pool, end, Clock(datetime(1997, 6, 16, 17, tzinfo=UTC)), catalog)
    assert out.status == "applied", out.refusal
    [terminated] = [e for e in out.events if e["type"] == "service_terminated"]
    # RD ISO ¶1(g): 1/48 on 1996-04-30 and 1/48 per full month after: 14/48 of 4,800 by June 15
    assert terminated["payload"]["vested"] == 1400
    [forfeit] = [e for e in out.events if e["type"] == "unvested_shares_forfeited"]
    assert forfeit["payload"]["shares"] == 3400

    [told] = await _sent(pool, company, end.message_id)
    assert (told.workflow_id, told.command, told.actor.party) == (
        grant.workflow_id, "record_grant_termination", "system",
    )  # fmt: skip
    assert told.caused_by is not None and told.caused_by.workflow_id == end.workflow_id
    later = Clock(datetime(1997, 6, 17, tzinfo=UTC))
    first, again = await apply_batch(pool, [told, told], later, catalog)
    assert isinstance(first, Outcome) and first.status == "applied"
    assert isinstance(again, Outcome) and again.status == "duplicate"
    redelivered = await apply(pool, told, later, catalog)
    assert redelivered.status == "duplicate"
    history = await pool.fetch(
        "SELECT message FROM history WHERE workflow_id = $1 ORDER BY seq", grant.workflow_id
    )
    assert len(history) == 2
    assert history[1]["message"]["caused_by"]["message_id"] == end.message_id
    # The reserve: the forfeited shares are back in the pool for the next grant.
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1",
                               grant.workflow_id)  # fmt: skip
    assert data["termination"]["forfeited"] == 3400


async def test_a_termination_of_a_grant_of_another_company_finds_no_facts(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    grant = grant_option(company)
    assert (await apply(pool, grant, GRANTED_AT, catalog)).status == "applied"
    other = f"other-{uuid.uuid4().hex[:8]}"
    await register_company(pool, other, TERMS)
    end = command(other, "termination", uuid.uuid4(), "terminate_service", "company",
                  grant=str(grant.workflow_id), reason="without_cause",
                  terminated_on="1997-06-15")  # fmt: skip
    out = await apply(pool, end, Clock(datetime(1997, 6, 16, tzinfo=UTC)), catalog)
    assert out.status == "refused" and out.refusal is not None
    assert out.refusal["code"] == "facts_unavailable"


async def test_a_party_may_not_send_what_only_a_workflow_sends(
    pool: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    grant = grant_option(company)
    await apply(pool, grant, GRANTED_AT, catalog)
    forged = command(company, "grant", grant.workflow_id, "record_grant_termination", "board",
                     terminated_on="1997-01-01", reason="without_cause", forfeited=4800,
                     retained=0)  # fmt: skip
    out = await apply(pool, forged, GRANTED_AT, catalog)
    assert out.status == "refused" and out.refusal is not None
    assert out.refusal["code"] == "not_authorised"


@pytest.fixture
async def replica(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A second engine's pool, as a second replica (or the HTTP API) would have."""
    other = await connect(database_url)
    yield other
    await other.close()


async def test_two_replicas_granting_at_once_never_overrun_the_plan_reserve(
    pool: asyncpg.Pool, replica: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    """RD Plan ¶4: the plan's lock serialises them; the second sees the first's shares."""
    for _ in range(5):
        a, b = grant_option(company, shares=60_000), grant_option(company, shares=60_000)
        await asyncio.gather(
            apply(pool, a, GRANTED_AT, catalog), apply(replica, b, GRANTED_AT, catalog)
        )
    committed = await pool.fetchval(
        "SELECT sum((data->>'shares')::int) FROM workflows WHERE company_id = $1 "
        "AND workflow_type = 'grant'", company,
    )  # fmt: skip
    assert committed == 480_000  # eight of ten: 506,280 hold eight grants of 60,000


async def test_two_terminations_of_one_grant_at_once_are_serialised_on_the_grant(
    pool: asyncpg.Pool, replica: asyncpg.Pool, catalog: TermsCatalog, company: str
) -> None:
    """Each reads the grant's facts under the grant's lock: the second sees the first."""
    at = Clock(datetime(1997, 6, 16, 17, tzinfo=UTC))
    for _ in range(5):
        grant = grant_option(company, shares=480)
        assert (await apply(pool, grant, GRANTED_AT, catalog)).status == "applied"
        ends = [
            command(company, "termination", uuid.uuid4(), "terminate_service", "company",
                    grant=str(grant.workflow_id), reason="without_cause",
                    terminated_on="1997-06-15")
            for _ in range(2)
        ]  # fmt: skip
        first, second = await asyncio.gather(
            apply(pool, ends[0], at, catalog), apply(replica, ends[1], at, catalog)
        )
        assert sorted([first.status, second.status]) == ["applied", "refused"]
        refused = first if first.status == "refused" else second
        assert refused.refusal is not None and "already ended" in refused.refusal["reason"]
