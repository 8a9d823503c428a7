"""Integrations over RabbitMQ are who RabbitMQ says they are, and reach only their own company.

Each test user is created in RabbitMQ with the permissions equityflow prescribes
(``services.bus.permissions``): integration A for a company whose id holds a dot, integration B
for another, and M, a user with the services' permissions (those ``deploy/`` ships) that the
services under test do not trust: an operator's mistake RabbitMQ lets through. The services
under test connect as guest, so guest is the services' user here, except in the last test,
where M runs the services.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import aio_pika
import aiormq
import asyncpg
import pytest
from aio_pika.abc import AbstractChannel, AbstractConnection

from services.bus.auth import SENDER_HEADER
from services.bus.consumers import engine_consumer, notices_consumer
from services.bus.permissions import (
    company_events_binding,
    integration_permissions,
    service_permissions,
)
from services.bus.redrive import redrive
from services.bus.runner import delete_topology, running_bus
from services.bus.tap import eventually, take
from services.bus.timer_bundles import bundle_body
from services.bus.topology import ERROR_HEADER, REDRIVEN_HEADER, Topology
from services.clock import SimulatedClock
from services.integrations import Integration, add_integration
from services.store.companies import register_company
from services.store.db import connect
from services.terms_catalog import TermsCatalog
from tests.conftest import IN_CI
from workflows.messages import (
    ActorIn,
    CommandMessage,
    EventMessage,
    TimerMessage,
    event_routing_key,
)

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)
REFUSED = (aiormq.exceptions.ChannelAccessRefused, aiormq.exceptions.ChannelPreconditionFailed)


def _password_hash(password: str) -> str:
    """RabbitMQ's rabbit_password_hashing_sha256: base64(salt + sha256(salt + password))."""
    salt = os.urandom(4)
    return base64.b64encode(salt + hashlib.sha256(salt + password.encode()).digest()).decode()


async def _rabbitmqctl(*args: str) -> None:
    process = await asyncio.create_subprocess_exec(
        "rabbitmqctl", *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, (args, out, err)


@dataclass(frozen=True)
class User:
    name: str
    company: str
    url: str


@dataclass(frozen=True)
class Broker:
    topology: Topology
    a: User
    b: User
    misconfigured: User


def _user_url(amqp_url: str, name: str, password: str) -> str:
    parts = urlsplit(amqp_url)
    host = f"{parts.hostname}:{parts.port or 5672}"
    return f"amqp://{quote(name, safe='')}:{password}@{host}{parts.path or '/'}"


async def _ready(user: User, topology: Topology) -> None:
    """The user logs in and its permissions are in force (RabbitMQ imports asynchronously)."""
    events = topology.events_exchange.name

    async def in_force() -> bool:
        try:
            connection = await aio_pika.connect(user.url, timeout=5)
        except Exception:  # not created yet
            return False
        try:
            try:  # permissions: its own company's events
                await _bind_new_queue(
                    await connection.channel(), events, company_events_binding(user.company)
                )
            except REFUSED:
                return False
            try:  # topic permissions: no one else's
                await _bind_new_queue(await connection.channel(), events, "event.#")
            except REFUSED:
                return True
            return False
        finally:
            await connection.close()

    await eventually(in_force, within=60)


@pytest.fixture(autouse=True)
async def empty_queues(amqp_url: str, broker: Broker) -> None:
    """The users' namespace is the module's: each test starts with its queues empty."""
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        for queue in broker.topology.queues:
            await (await channel.get_queue(queue.name, ensure=False)).purge()
    finally:
        await connection.close()


@pytest.fixture(scope="module")
async def broker(amqp_url: str) -> AsyncIterator[Broker]:
    """Users A, B and M in RabbitMQ for one namespace; deleted afterwards."""
    if shutil.which("rabbitmqctl") is None:
        message = "rabbitmqctl is not on PATH: these tests create RabbitMQ users"
        if IN_CI:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    suffix = uuid.uuid4().hex[:10]
    topology = Topology(f"eftest-auth-{suffix}")
    password = uuid.uuid4().hex
    a = User(f"eftest-a-{suffix}", f"acme.{suffix}", "")
    b = User(f"eftest-b-{suffix}", f"acme-{suffix}", "")  # "acme.x" and "acme-x": no overlap
    m = User(f"eftest-m-{suffix}", f"globex-{suffix}", "")
    grants = [
        integration_permissions(topology, a.name, a.company),
        integration_permissions(topology, b.name, b.company),
        service_permissions(topology, m.name),
    ]
    definitions: dict[str, Any] = {"users": [], "permissions": [], "topic_permissions": []}
    for grant in grants:
        definitions["users"].append(
            {
                "name": grant.user,
                "password_hash": _password_hash(password),
                "hashing_algorithm": "rabbit_password_hashing_sha256",
                "tags": [],
            }
        )
        for section, items in grant.definitions().items():
            definitions[section] += items
    # The topology first, as the services declare it, so permissions name what exists.
    async with running_bus(amqp_url, topology):
        pass
    # rabbitmqctl reads the file as the broker's own OS user: it must be able to.
    fd, path = tempfile.mkstemp(suffix=".json")
    try:
        os.fchmod(fd, 0o644)
        os.write(fd, json.dumps(definitions).encode())
        os.close(fd)
        await _rabbitmqctl("import_definitions", path)
    finally:
        os.unlink(path)
    users = [User(u.name, u.company, _user_url(amqp_url, u.name, password)) for u in (a, b, m)]
    try:
        for u in users[:2]:
            await _ready(u, topology)
        await (await _as(users[2])).close()
        yield Broker(topology, *users)
    finally:
        await delete_topology(amqp_url, topology)
        await asyncio.gather(*(_rabbitmqctl("delete_user", u.name) for u in users))


async def _as(user: User) -> AbstractConnection:
    return await aio_pika.connect(user.url, timeout=10)


async def _refused(
    connection: AbstractConnection, act: Callable[[AbstractChannel], Awaitable[Any]]
) -> str:
    """Run ``act`` on a fresh confirming channel; the broker's refusal (the channel dies)."""
    channel = await connection.channel(publisher_confirms=True)
    try:
        await act(channel)
    except REFUSED as refusal:
        return str(refusal)
    raise AssertionError("RabbitMQ allowed it")


def _message(body: bytes, user_id: str | None, **properties: Any) -> aio_pika.Message:
    return aio_pika.Message(body, user_id=user_id, content_type="application/json", **properties)


def _event(company: str, event_type: str, payload: dict[str, Any]) -> EventMessage:
    return EventMessage(
        event_id=str(uuid.uuid4()),
        company_id=company,
        workflow_id=uuid.uuid4(),
        workflow_type="rofr",
        type=event_type,
        version=2,
        occurred_at=NOW,
        payload=payload,
        caused_by="cmd-1",
    )


async def _publish_event(bus: Any, event: EventMessage) -> None:
    await bus.publisher.publish(
        event.model_dump_json().encode(),
        exchange=bus.topology.events_exchange,
        routing_key=event_routing_key(event.company_id, event.workflow_type, event.type),
        message_id=event.event_id,
    )


async def test_an_integration_reads_only_its_companys_events_and_sends_only_commands(
    amqp_url: str, broker: Broker
) -> None:
    t, a, b = broker.topology, broker.a, broker.b
    events, commands = t.events_exchange.name, t.commands_exchange.name
    async with running_bus(amqp_url, t) as bus:
        connection = await _as(b)
        try:
            channel = await connection.channel()
            own = await channel.declare_queue(exclusive=True)
            await own.bind(events, company_events_binding(b.company))
            # Another company's events, every company's, any wildcard over the company word.
            for key in (company_events_binding(a.company), "event.#", "event.*.rofr.#", "#"):
                refusal = await _refused(
                    connection, lambda ch, key=key: _bind_new_queue(ch, events, key)
                )
                assert "ACCESS_REFUSED" in refusal, (key, refusal)
            # The services' queues are not an integration's to read.
            for queue in (t.notices_queue.name, t.engine_queue.name):
                refusal = await _refused(connection, lambda ch, queue=queue: _consume(ch, queue))
                assert "ACCESS_REFUSED" in refusal

            theirs = _event(a.company, "deadline_set", {"n": 1})
            mine = _event(b.company, "deadline_set", {"n": 2})
            await _publish_event(bus, theirs)
            await _publish_event(bus, mine)
            got = await own.get(timeout=10, fail=True)
            assert got is not None and json.loads(got.body)["event_id"] == mine.event_id
            assert await own.get(fail=False) is None  # A's event never reached B's queue

            # Publishing: as someone else, a timer, an event, or past the commands exchange.
            command = b'{"kind": "command"}'
            refusals = [
                await _refused(connection, lambda ch: ch.default_exchange.publish(
                    _message(command, a.name), t.engine_queue.name)),
                await _refused(connection, lambda ch: _publish(
                    ch, commands, "command.rofr.exercise_rofr", _message(command, a.name))),
                await _refused(connection, lambda ch: _publish(
                    ch, commands, "timer.rofr.company_election", _message(command, b.name))),
                await _refused(connection, lambda ch: _publish(
                    ch, events, f"event.{b.company}.rofr.deadline_set", _message(command, b.name))),
            ]  # fmt: skip
            assert "PRECONDITION_FAILED" in refusals[1] and "user_id" in refusals[1]
            assert all("ACCESS_REFUSED" in r for r in refusals[::2] + refusals[3:])
            # What it may do: a command in its own name (RabbitMQ confirms it).
            channel = await connection.channel(publisher_confirms=True)
            await _publish(channel, commands, "command.rofr.x", _message(command, b.name))
        finally:
            await connection.close()


async def _bind_new_queue(channel: AbstractChannel, exchange: str, key: str) -> None:
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(exchange, key)


async def _consume(channel: AbstractChannel, queue: str) -> None:
    await (await channel.get_queue(queue, ensure=False)).get(fail=False)


async def _publish(channel: AbstractChannel, exchange: str, key: str, m: aio_pika.Message) -> None:
    target = await channel.get_exchange(exchange, ensure=False)
    await target.publish(m, key)


def _command(company: str, party: str, *, message_id: str | None = None) -> CommandMessage:
    return CommandMessage(
        message_id=message_id or f"notice-{uuid.uuid4()}",
        company_id=company,
        workflow_id=uuid.uuid4(),
        workflow_type="rofr",
        command="deliver_disposition_notice",
        actor=ActorIn(party=party, name="Olivia Owner"),
        payload={
            "holder": "Olivia Owner",
            "shares": 1000,
            "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "opinion of counsel: FMP §6(b), (c), (g), (h) not contravened",
            "notice": {"method": "personal", "delivered_at": NOW.isoformat()},
        },
    )


async def _rows_of(pool: asyncpg.Pool, company: str) -> int:
    total = 0
    for table in ("workflows", "inbox", "outbox", "history"):
        total += await pool.fetchval(f"SELECT count(*) FROM {table} WHERE company_id = $1", company)
    return int(total)


async def test_the_engine_applies_a_command_only_within_its_senders_grant(
    fresh_database_url: str, amqp_url: str, broker: Broker, catalog: TermsCatalog
) -> None:
    t, a, b, m = broker.topology, broker.a, broker.b, broker.misconfigured
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        for company in (a.company, b.company):
            await register_company(pool, company, "fmp-1998-nso")
        await add_integration(pool, Integration(a.name, a.company, ("owner", "company")))
        await add_integration(pool, Integration(b.name, b.company, ("owner",)))
        allowed = _command(b.company, "owner")
        refused = {
            "for another company": (b, _command(a.company, "owner"), "acts for company"),
            "as a party not granted": (b, _command(b.company, "company"), "may act as owner"),
            "with no user_id": (None, _command(b.company, "owner"), "unauthenticated"),
            "by an unregistered user": (m, _command(b.company, "owner"), "not a registered"),
        }
        timer = {
            "kind": "timer", "message_id": str(uuid.uuid4()), "company_id": b.company,
            "workflow_id": str(uuid.uuid4()), "workflow_type": "rofr",
            "timer": "company_election", "due_at": NOW.isoformat(),
        }  # fmt: skip
        async with running_bus(amqp_url, t, [engine_consumer(pool, clock, catalog)]):
            connections = {u.name: await _as(u) for u in (b, m)}
            try:
                for sender, command, _ in refused.values():
                    name = sender.name if sender else None
                    channel = await connections[(sender or b).name].channel()
                    await _publish(channel, t.commands_exchange.name, "command.rofr.x",
                                   _message(command.model_dump_json().encode(), name,
                                            message_id=command.message_id))  # fmt: skip
                channel = await connections[b.name].channel()
                body = json.dumps(timer).encode()
                await _publish(
                    channel,
                    t.commands_exchange.name,
                    "command.rofr.x",
                    _message(body, b.name, message_id=timer["message_id"]),
                )
                await _publish(channel, t.commands_exchange.name, "command.rofr.x",
                               _message(allowed.model_dump_json().encode(), b.name,
                                        message_id=allowed.message_id))  # fmt: skip
                letters = await take(amqp_url, t.dead_letter_queue.name, 5, within=30)

                async def applied() -> bool:
                    return bool(await _rows_of(pool, b.company))

                await eventually(applied, within=30)
            finally:
                for connection in connections.values():
                    await connection.close()
        reasons = {x.message_id: (x.headers or {}).get(ERROR_HEADER) for x in letters}
        for what, (_, command, reason) in refused.items():
            assert reason in str(reasons.get(command.message_id)), (what, reasons)
        # A timer body under a command key is read as the command its key says, and refused as
        # one: never applied as a timer, whoever sent it.
        assert "kind: Input should be 'command'" in str(reasons.get(timer["message_id"]))
        assert await _rows_of(pool, a.company) == 0  # nothing of the company B claimed
        (row,) = await pool.fetch("SELECT message_id FROM inbox WHERE company_id = $1", b.company)
        assert row["message_id"] == allowed.message_id
    finally:
        await pool.close()


async def test_a_forged_deadline_is_neither_recorded_nor_announced(
    fresh_database_url: str, amqp_url: str, broker: Broker
) -> None:
    t, b, m = broker.topology, broker.b, broker.misconfigured
    forged = _event(b.company, "deadline_set", {
        "timer": "company_election", "party": "company", "action": "PAY mallory 1,000,000 USD",
        "due_at": "2026-04-01T23:59:59-07:00", "clause": "FMP §6(d)(iii)", "derivation": "forged",
    })  # fmt: skip
    genuine = forged.model_copy(update={"event_id": str(uuid.uuid4())})
    key = event_routing_key(forged.company_id, forged.workflow_type, forged.type)
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        async with running_bus(amqp_url, t, [notices_consumer(pool, clock)]) as bus:
            body = forged.model_dump_json().encode()
            # The notices service dead-letters the event of a user RabbitMQ lets through.
            await _refused_then_let_through(
                b, m, t.events_exchange.name, key, body, forged.event_id
            )
            (letter,) = await take(amqp_url, t.dead_letter_queue.name, 1, within=30)
            await _publish_event(bus, genuine)  # the relay's own, for contrast

            async def recorded() -> bool:
                return bool(await pool.fetchval("SELECT count(*) FROM notices"))

            await eventually(recorded, within=30)
        assert letter.message_id == forged.event_id
        assert "untrusted" in str((letter.headers or {}).get(ERROR_HEADER))
        notices = await pool.fetch("SELECT notice_id FROM notices")
        assert [n["notice_id"] for n in notices] == [genuine.event_id]
        announced = await pool.fetch("SELECT body FROM outbox")
        assert [o["body"]["caused_by"] for o in announced] == [genuine.event_id]
    finally:
        await pool.close()


async def test_a_bundle_of_timers_comes_only_from_the_services(
    fresh_database_url: str, amqp_url: str, broker: Broker, catalog: TermsCatalog
) -> None:
    t, b, m = broker.topology, broker.b, broker.misconfigured
    timer = TimerMessage(
        message_id=str(uuid.uuid4()), company_id=b.company, workflow_id=uuid.uuid4(),
        workflow_type="rofr", timer="election_deadline", due_at=NOW,
    )  # fmt: skip
    body = bundle_body([timer.model_dump_json().encode()])
    key = t.timer_bundle_routing_key(0)
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        async with running_bus(amqp_url, t, [engine_consumer(pool, clock, catalog)]):
            # The engine dead-letters whole the bundle of a user RabbitMQ lets through.
            await _refused_then_let_through(
                b, m, t.commands_exchange.name, key, body, "forged-bundle"
            )
            (letter,) = await take(amqp_url, t.dead_letter_queue.name, 1, within=30)
        assert (letter.message_id, letter.body) == ("forged-bundle", body)
        reason = str((letter.headers or {}).get(ERROR_HEADER))
        assert reason.startswith(f"unauthorised: RabbitMQ user {m.name!r} sent a bundle of timer")
        assert await pool.fetchval("SELECT count(*) FROM inbox") == 0
    finally:
        await pool.close()


async def _refused_then_let_through(
    integration: User, misconfigured: User, exchange: str, key: str, body: bytes, message_id: str
) -> None:
    """What only the services may publish: RabbitMQ refuses it from an integration; a user it
    lets through (misconfigured, not a service) publishes it, for the consumer to refuse."""
    connection = await _as(integration)
    try:
        refusal = await _refused(connection, lambda ch: _publish(
            ch, exchange, key, _message(body, integration.name)))  # fmt: skip
        assert "ACCESS_REFUSED" in refusal
    finally:
        await connection.close()
    connection = await _as(misconfigured)
    try:
        channel = await connection.channel(publisher_confirms=True)
        await _publish(channel, exchange, key,
                       _message(body, misconfigured.name, message_id=message_id))  # fmt: skip
    finally:
        await connection.close()


async def _dead_letters(amqp_url: str, topology: Topology) -> int:
    connection = await aio_pika.connect(amqp_url, timeout=10)
    try:
        channel = await connection.channel()
        queue = await channel.declare_queue(topology.dead_letter_queue.name, passive=True)
        return int(queue.declaration_result.message_count or 0)
    finally:
        await connection.close()


async def test_a_refused_command_sent_back_by_redrive_is_judged_as_its_senders_again(
    fresh_database_url: str, amqp_url: str, broker: Broker, catalog: TermsCatalog
) -> None:
    """Redrive republishes as the services' user; the command stays the integration's."""
    t, a, b = broker.topology, broker.a, broker.b
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        await register_company(pool, a.company, "fmp-1998-nso")
        await add_integration(pool, Integration(b.name, b.company, ("owner",)))
        command = _command(a.company, "owner")
        async with running_bus(amqp_url, t, [engine_consumer(pool, clock, catalog)]):
            connection = await _as(b)
            try:
                channel = await connection.channel()
                await _publish(channel, t.commands_exchange.name, "command.rofr.x",
                               _message(command.model_dump_json().encode(), b.name,
                                        message_id=command.message_id))  # fmt: skip
            finally:
                await connection.close()
            await eventually(lambda: _dead_letters(amqp_url, t), within=30)
            (sent,) = await redrive(amqp_url, t, include_poison=True)
            assert sent.redriven, sent
            (letter,) = await take(amqp_url, t.dead_letter_queue.name, 1, within=30)
        assert letter.message_id == command.message_id
        assert (letter.headers or {}).get(REDRIVEN_HEADER) == "1"  # it went round once
        assert "acts for company" in str((letter.headers or {}).get(ERROR_HEADER))
        assert (letter.headers or {}).get(SENDER_HEADER) == b.name
        assert await _rows_of(pool, a.company) == 0
    finally:
        await pool.close()


async def test_the_services_run_on_the_permissions_deploy_ships(
    fresh_database_url: str, amqp_url: str, broker: Broker
) -> None:
    """M holds exactly the services' permissions: as the services' user it declares, consumes,
    dead-letters and redrives; and it trusts only itself, not guest."""
    t, m = broker.topology, broker.misconfigured
    event = _event(m.company, "deadline_set", {"n": 1})
    pool = await connect(fresh_database_url)
    try:
        clock = SimulatedClock(pool)
        await clock.set(NOW)
        async with running_bus(m.url, t, [notices_consumer(pool, clock)]):
            async with running_bus(amqp_url, t) as guest:  # not a services' user to M's bus
                await _publish_event(guest, event)
            await eventually(lambda: _dead_letters(amqp_url, t), within=30)
            (sent,) = await redrive(m.url, t, include_poison=True)
            assert sent.redriven, sent
            (letter,) = await take(amqp_url, t.dead_letter_queue.name, 1, within=30)
        headers = letter.headers or {}
        assert letter.message_id == event.event_id and headers.get(REDRIVEN_HEADER) == "1"
        assert "untrusted" in str(headers.get(ERROR_HEADER))
        assert headers.get(SENDER_HEADER) == "guest"
        assert await pool.fetchval("SELECT count(*) FROM notices") == 0
    finally:
        await pool.close()
