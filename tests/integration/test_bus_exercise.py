"""The option side end to end through RabbitMQ and PostgreSQL: the engine, deadlines and relay
services as ``equityflow up`` runs them, commands in over AMQP, messages between workflows
through the outbox and the broker, time simulated.

- an exercise from its notice to the issued certificate, the grant told the shares acquired;
- two exercises of one grant, together asking for more than is exercisable: one refused,
  naming the exercisable number;
- a termination whose window timer expires the option: the grant's unexercised part expired,
  a later exercise refused naming the clause and the window's derivation;
- the FMP §13 withholding Election deemed approved when the Tax Date passes.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from services.bus.runner import delete_topology
from services.bus.serve import bus_services
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.runtime import Runtime
from services.settings import Settings
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import ActorIn, CommandMessage

NOW = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)  # 11:00 in California
COMPANY = "fmp"
GRANT = {
    "optionee": "alex",
    "optionee_name": "Alex Rivera",
    "plan": "fmp-1998",
    "shares": 10_000,
    "exercise_price": "0.50",
    "grant_date": "2025-01-15",
    "expiration_date": "2035-01-14",
    "installments": [{"on": f"{y}-01-15", "shares": 2_500} for y in (2026, 2027, 2028, 2029)],
}
CIRCUMSTANCES = {
    "fair_market_value": {
        "price_per_share": "2.00",
        "effective_on": "2026-01-10",
        "method": "board_good_faith",
        "resolution": "Board resolution 2026-01",
    },
    "securities_law": {
        "basis": "compliance_confirmed_by_company_and_counsel",
        "reference": "counsel letter 2026-02-20",
    },
}


def command(
    kind: str, workflow_id: uuid.UUID, name: str, party: str, **payload: Any
) -> CommandMessage:
    return CommandMessage(
        message_id=f"{name}-{uuid.uuid4()}",
        company_id=COMPANY,
        workflow_id=workflow_id,
        workflow_type=kind,
        command=name,
        actor=ActorIn(party=party, reference="BR-2026-01"),
        payload=payload,
    )


def notice(grant: uuid.UUID, shares: int, delivered_at: datetime) -> CommandMessage:
    return command(
        "option_exercise", uuid.uuid4(), "deliver_exercise_notice", "owner", grant=str(grant),
        shares=shares, notice={"method": "personal", "delivered_at": delivered_at.isoformat()},
        exercised_by={"name": "Alex Rivera"},
        payment=[{"form": "check", "amount": f"{shares * 0.5:.2f}"}],
        investment_statement=True, circumstances=CIRCUMSTANCES,
    )  # fmt: skip


class Run:
    """The services on one database and namespace, and what a test asks of them."""

    def __init__(self, rt: Runtime, bus: Any) -> None:
        self.rt, self.bus = rt, bus
        assert isinstance(rt.clock, SimulatedClock)
        self.clock: SimulatedClock = rt.clock

    async def send(self, message: CommandMessage) -> None:
        await self.bus.send_command(message)

    async def row(self, workflow_id: uuid.UUID) -> asyncpg.Record | None:
        return await self.rt.pool.fetchrow(  # type: ignore[no-any-return]
            "SELECT state, data FROM workflows WHERE workflow_id = $1", workflow_id
        )

    async def until(self, check: Callable[[], Awaitable[bool]]) -> None:
        await eventually(check, within=30)

    async def reaches(self, workflow_id: uuid.UUID, state: str) -> asyncpg.Record:
        async def there() -> bool:
            row = await self.row(workflow_id)
            return row is not None and row["state"] == state

        await self.until(there)
        found = await self.row(workflow_id)
        assert found is not None
        return found

    async def refusal(self, message: CommandMessage) -> dict[str, Any]:
        """The ``command_refused`` event the engine published for ``message``."""
        query = (
            "SELECT body FROM outbox WHERE company_id = $1 AND body->>'type' = 'command_refused' "
            "AND body->>'caused_by' = $2"
        )

        async def refused() -> bool:
            return await self.rt.pool.fetchval(query, COMPANY, message.message_id) is not None

        await self.until(refused)
        body = await self.rt.pool.fetchval(query, COMPANY, message.message_id)
        return dict(body["payload"])

    async def grant(self) -> uuid.UUID:
        workflow_id = uuid.uuid4()
        await self.send(command("grant", workflow_id, "grant_option", "board", **GRANT))
        await self.reaches(workflow_id, "outstanding")
        return workflow_id


@asynccontextmanager
async def services(url: str, amqp_url: str, namespace: str) -> AsyncIterator[Run]:
    topology = Topology(namespace)
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, amqp_url, topology)
        pool = await connect(url)
        stack.push_async_callback(pool.close)
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await register_company(pool, COMPANY, "fmp-1998-nso")
        settings = Settings().model_copy(
            update={"amqp_url": amqp_url, "database_url": url, "poll_interval": 0.05}
        )
        rt = Runtime(settings, url, pool, clock, TermsCatalog(), topology)
        bus = await stack.enter_async_context(bus_services(rt))
        yield Run(rt, bus)


async def test_an_exercise_from_notice_to_issued_certificate_tells_its_grant(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    async with services(fresh_database_url, amqp_url, namespace) as run:
        grant = await run.grant()
        given = notice(grant, 1_000, NOW - timedelta(hours=1))
        await run.send(given)
        await run.reaches(given.workflow_id, "pending_delivery")
        issue = command(
            "option_exercise", given.workflow_id, "issue_certificate", "company",
            certificate_number="C-101", issued_at=NOW.isoformat(),
        )  # fmt: skip
        await run.send(issue)
        done = await run.reaches(given.workflow_id, "completed")
        assert done["data"]["certificate"]["legends"][0]["clause"] == "FMP §6(f)"
        assert done["data"]["certificate"]["shares"]["issued"] == 1_000

        # FMP §4(b), §11: acquired on issuance; the grant records it from the exercise's message.
        async def recorded() -> bool:
            row = await run.row(grant)
            return row is not None and row["data"].get("exercised") == 1_000

        await run.until(recorded)
        row = await run.row(grant)
        assert row is not None
        assert row["data"]["exercises"] == {
            str(given.workflow_id): {
                "shares": 1_000, "exercised_on": "2026-03-02", "certificate": "C-101",
            }
        }  # fmt: skip


async def test_two_exercises_asking_together_for_more_than_is_exercisable(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    async with services(fresh_database_url, amqp_url, namespace) as run:
        grant = await run.grant()
        at = NOW - timedelta(hours=1)
        a, b = notice(grant, 1_500, at), notice(grant, 1_500, at)
        await run.send(a)
        await run.send(b)

        async def both_decided() -> bool:
            rows = [await run.row(m.workflow_id) for m in (a, b)]
            return sum(r is not None for r in rows) == 1

        await run.until(both_decided)
        accepted, refused = (a, b) if await run.row(a.workflow_id) else (b, a)
        assert (await run.reaches(accepted.workflow_id, "pending_delivery"))["data"]["claim"] == {
            "shares": 1_500, "on": "2026-03-02",
        }  # fmt: skip
        refusal = await run.refusal(refused)
        assert refusal["rule"] == "FMP §3(a), §1"
        assert refusal["reason"] == (
            "only 1000 shares are exercisable on 2026-03-02 (2500 vested, 0 already exercised, "
            "1500 held for exercises under way); the notice asks for 1500"
        )


async def test_a_termination_window_timer_expires_the_option(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    async with services(fresh_database_url, amqp_url, namespace) as run:
        grant = await run.grant()
        termination = uuid.uuid4()
        await run.send(command(
            "termination", termination, "terminate_service", "company", grant=str(grant),
            reason="without_cause", terminated_on="2026-03-02",
        ))  # fmt: skip
        await run.reaches(termination, "window_open")
        # FMP §5(a): 30 days after 2026-03-02, to the end of 2026-04-01 in California.
        await run.clock.advance(timedelta(days=31))
        closed = await run.reaches(termination, "window_closed")
        assert closed["data"]["closed"]["unexercised"] == 2_500

        async def expired_on_the_grant() -> bool:
            row = await run.row(grant)
            return (
                row is not None and (row["data"].get("termination") or {}).get("expired") == 2_500
            )

        await run.until(expired_on_the_grant)
        late = notice(grant, 100, NOW + timedelta(days=31))
        await run.send(late)
        refusal = await run.refusal(late)
        assert refusal["rule"] == "FMP §5"
        assert (
            "after the post-termination window closed at 2026-04-01 23:59 PDT"
            in (refusal["reason"])
        )
        assert "FMP §5(a): terminated 2026-03-02 + 30 days" in refusal["reason"]


async def test_the_withholding_election_is_deemed_approved_when_the_tax_date_passes(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    async with services(fresh_database_url, amqp_url, namespace) as run:
        grant = await run.grant()
        given = notice(grant, 1_000, NOW - timedelta(hours=1))
        await run.send(given)
        await run.reaches(given.workflow_id, "pending_delivery")
        exercise = given.workflow_id
        await run.send(command(
            "option_exercise", exercise, "require_withholding", "company",
            amount="300", tax_date="2026-03-16", fair_market_value="2.00",
        ))  # fmt: skip

        async def required() -> bool:
            row = await run.row(exercise)
            return row is not None and row["data"].get("withholding") is not None

        await run.until(required)
        await run.send(command(
            "option_exercise", exercise, "elect_withholding", "owner", method="withhold_shares",
            portion="all", rate_basis="flat",
            notice={"method": "personal", "delivered_at": NOW.isoformat()},
        ))  # fmt: skip
        await run.reaches(exercise, "election_pending")
        # FMP §13(c)(iii): the Board has not acted by the end of the Tax Date.
        await run.clock.advance(timedelta(days=15))
        row = await run.reaches(exercise, "pending_delivery")
        election = row["data"]["election"]
        assert election["status"] == "deemed_approved"
        assert election["derivation"].startswith("FMP §13(c)(iii): Tax Date 2026-03-16")
        timer = await run.rt.pool.fetchrow(
            "SELECT status, clause FROM timers WHERE workflow_id = $1 AND name = 'tax_date'",
            exercise,
        )
        assert (timer["status"], timer["clause"]) == ("applied", "FMP §13(c)(iii)")
