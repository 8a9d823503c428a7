"""A ROFR sale recorded in the share register end to end over RabbitMQ: the commands come in
over AMQP, the ROFR's decision sends the register its record through the outbox and the relay,
and the record delivered again (the same message id) is applied once (FMP §6(d)(iv), BYL Art.
VIII §2)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg

from services.bus.runner import delete_topology
from services.bus.serve import bus_services
from services.bus.tap import eventually
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.ids import share_register_id
from services.runtime import Runtime
from services.settings import Settings
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from workflows.messages import CommandMessage

NOW = datetime(2026, 5, 4, 22, tzinfo=UTC)
COMPANY = "fmp"
REGISTER = uuid.UUID(share_register_id(COMPANY))
SIGNED = [{"title": "president", "name": "P. Ames"}, {"title": "secretary", "name": "S. Byrd"}]


def command(workflow_type: str, workflow_id: uuid.UUID, name: str, party: str,
            **payload: Any) -> CommandMessage:  # fmt: skip
    return CommandMessage(
        message_id=str(uuid.uuid4()), company_id=COMPANY, workflow_id=workflow_id,
        workflow_type=workflow_type, command=name, actor={"party": party, "name": "S. Byrd"},
        payload=payload,
    )  # fmt: skip


@asynccontextmanager
async def services(url: str, amqp_url: str, topology: Topology) -> AsyncIterator[Any]:
    pool = await connect(url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await register_company(pool, COMPANY, "fmp-1998-nso")
        settings = Settings().model_copy(
            update={"amqp_url": amqp_url, "database_url": url, "poll_interval": 0.05}
        )
        rt = Runtime(settings, url, pool, clock, TermsCatalog(), topology)
        async with bus_services(rt) as bus:
            yield rt.pool, bus
    finally:
        await pool.close()


async def register_data(pool: asyncpg.Pool) -> dict[str, Any]:
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", REGISTER)
    return data or {}


async def test_over_rabbitmq_a_rofr_sale_is_recorded_in_the_register_once(
    fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    topology, rofr = Topology(namespace), uuid.uuid4()
    async with AsyncExitStack() as stack:
        stack.push_async_callback(delete_topology, amqp_url, topology)
        pool, bus = await stack.enter_async_context(
            services(fresh_database_url, amqp_url, topology)
        )

        async def applied(m: CommandMessage) -> None:
            async def there() -> bool:
                outcome = await pool.fetchval(
                    "SELECT outcome FROM inbox WHERE message_id = $1", m.message_id
                )
                return outcome is not None

            await bus.send_command(m)
            await eventually(there, within=30)

        legend = {"key": "first_refusal_and_repurchase", "clause": "FMP §6(f)", "text": "..."}
        for m in (
            command("share_register", REGISTER, "open_share_register", "company",
                    opened_at="2026-01-05T09:00:00-08:00", kept_at="Valencia CA", first_number=101,
                    signatures=SIGNED),
            command("share_register", REGISTER, "issue_share_certificate", "company",
                    holder={"id": "alice", "name": "Alice Owner", "address": "1 Main St"},
                    shares=1_000, issued_at="2026-01-10T10:00:00-08:00", legends=[legend]),
            command("rofr", rofr, "deliver_disposition_notice", "owner", holder="alice",
                    shares=1_000, transferee={"name": "Bo Buyer"}, certificates=["101"],
                    consideration={"form": "cash", "price_per_share": "2.50"},
                    compliance_proof="counsel's letter",
                    notice={"method": "personal", "delivered_at": "2026-03-02T10:00:00-08:00"}),
            command("rofr", rofr, "waive_rofr", "company",
                    notice={"method": "personal", "delivered_at": "2026-03-04T10:00:00-08:00"}),
        ):  # fmt: skip
            await applied(m)
        sale = command("rofr", rofr, "report_third_party_sale", "owner",
                       buyer={"name": "Bo Buyer", "address": "9 Elm St", "holder_id": "bo"},
                       shares=1_000, price_per_share="2.50", sold_at="2026-03-10T10:00:00-08:00",
                       compliance={"securities_act": "exempt", "exemption": "§4(a)(1)",
                                   "state_law": "exempt",
                                   "s_corporation": "not_an_s_corporation"})  # fmt: skip
        await bus.send_command(sale)
        await bus.send_command(sale)  # delivered twice: one sale, one record

        async def recorded() -> bool:
            return len((await register_data(pool)).get("transfers") or []) == 1

        await eventually(recorded, within=30)
        body = await pool.fetchval(
            "SELECT body FROM outbox WHERE exchange = 'commands' "
            "AND body->'caused_by'->>'message_id' = $1", sale.message_id,
        )  # fmt: skip
        record = CommandMessage.model_validate(body)
        assert record.command == "record_rofr_transfer" and record.workflow_id == REGISTER
        # The record delivered once more over AMQP, then a later command of the register: once
        # that is applied, the duplicate (published before it) has been consumed.
        await bus.send_command(record)
        await applied(command("share_register", REGISTER, "change_holder_address", "company",
                              holder="bo", address="10 Elm St",
                              changed_at="2026-05-04T12:00:00-07:00"))  # fmt: skip
        data = await register_data(pool)
        [transfer] = data["transfers"]
        assert (transfer["to"], transfer["shares"], transfer["surrendered"]) == (
            "bo",
            1_000,
            ["101"],
        )
        recorded_events = await pool.fetchval(
            "SELECT count(*) FROM outbox WHERE exchange = 'events' "
            "AND body->>'type' = 'share_transfer_recorded'"
        )
        assert recorded_events == 1
        inbox = await pool.fetchval(
            "SELECT count(*) FROM inbox WHERE message_id = $1", record.message_id
        )
        assert inbox == 1
