"""A service waits for PostgreSQL and RabbitMQ instead of exiting, says when it is connected,
and stops promptly on SIGTERM even while messages are backing off.

Finding: a service started while RabbitMQ was down exited at once; two engines retrying
messages the database could not take needed SIGKILL to stop.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aio_pika
import asyncpg
import pytest
from forwarder import Forwarder

from services.bus.auth import amqp_user
from services.bus.runner import delete_topology
from services.bus.topology import Topology
from services.store.companies import register_company
from workflows.messages import command_routing_key

COMPANY = "patient-co"


def _through(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"127.0.0.1:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


class Service:
    """``equityflow serve <name>`` as its own process, its log lines read as they come."""

    def __init__(self, process: asyncio.subprocess.Process, ready_file: Path) -> None:
        self.process, self.ready_file = process, ready_file
        self.lines: list[str] = []
        self._reader = asyncio.create_task(self._read())

    async def _read(self) -> None:
        assert self.process.stderr is not None
        while line := await self.process.stderr.readline():
            self.lines.append(line.decode(errors="replace"))

    async def logged(self, words: str, within: float = 60.0) -> str:
        async with asyncio.timeout(within):
            while not (found := [line for line in self.lines if words in line]):
                assert self.process.returncode is None, "".join(self.lines[-30:])
                await asyncio.sleep(0.05)
        return found[0]

    async def ready(self, within: float = 60.0) -> dict[str, bool]:
        async with asyncio.timeout(within):
            while not self.ready_file.exists():
                assert self.process.returncode is None, "".join(self.lines[-30:])
                await asyncio.sleep(0.05)
        status: dict[str, bool] = json.loads(self.ready_file.read_text())
        return status

    async def terminate(self, within: float) -> int:
        self.process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(within):
            code = await self.process.wait()
        await self._reader
        return code


@pytest.fixture
async def serve(
    fresh_database_url: str, namespace: str, amqp_url: str, tmp_path: Path
) -> AsyncIterator[Any]:
    started: list[Service] = []

    async def start(name: str, *, database_url: str, amqp: str) -> Service:
        ready_file = tmp_path / f"{name}-{len(started)}.ready"
        env = {
            **os.environ, "DATABASE_URL": database_url, "AMQP_URL": amqp,
            "EQUITYFLOW_NAMESPACE": namespace, "EQUITYFLOW_READY_FILE": str(ready_file),
        }  # fmt: skip
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.cli", "serve", name,
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        started.append(Service(process, ready_file))
        return started[-1]

    yield start
    for service in started:
        if service.process.returncode is None:
            service.process.kill()
            await service.process.wait()
    await delete_topology(amqp_url, Topology(namespace))


async def _send_notice(amqp_url: str, namespace: str) -> str:
    message_id = f"notice-{uuid.uuid4()}"
    body = {
        "kind": "command", "message_id": message_id, "company_id": COMPANY,
        "workflow_id": str(uuid.uuid4()), "workflow_type": "rofr",
        "command": "deliver_disposition_notice", "actor": {"party": "owner"},
        "payload": {
            "holder": "Olivia Owner", "shares": 1000, "transferee": {"name": "Bob Buyer"},
            "consideration": {"form": "cash", "price_per_share": "2.50"},
            "compliance_proof": "opinion of counsel",
            "notice": {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"},
        },
    }  # fmt: skip
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(Topology(namespace).commands_exchange.name)
        await exchange.publish(
            aio_pika.Message(
                json.dumps(body).encode(), message_id=message_id, user_id=amqp_user(amqp_url)
            ),
            routing_key=command_routing_key("rofr", "deliver_disposition_notice"),
            mandatory=True,
        )
    return message_id


async def _recorded(database_url: str, message_id: str, within: float = 60.0) -> str:
    connection = await asyncpg.connect(database_url)
    try:
        async with asyncio.timeout(within):
            while True:
                outcome = await connection.fetchval(
                    "SELECT outcome FROM inbox WHERE company_id = $1 AND message_id = $2",
                    COMPANY, message_id,
                )  # fmt: skip
                if outcome:
                    return str(outcome)
                await asyncio.sleep(0.1)
    finally:
        await connection.close()


async def _register(database_url: str) -> None:
    from services.store.db import connect

    pool = await connect(database_url)
    try:
        await register_company(pool, COMPANY, "fmp-1998-nso")
    finally:
        await pool.close()


async def test_a_service_started_while_rabbitmq_is_down_waits_and_connects_when_it_is_up(
    serve: Any, fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    await _register(fresh_database_url)
    rabbitmq = Forwarder(urlsplit(amqp_url).port or 5672)  # not listening yet: RabbitMQ is "down"
    engine = await serve(
        "engine", database_url=fresh_database_url, amqp=_through(amqp_url, rabbitmq.port)
    )
    await engine.logged("RabbitMQ is unreachable")
    await engine.logged("retrying in 1.0s")  # a second attempt, still waiting
    assert engine.process.returncode is None and not engine.ready_file.exists()

    await rabbitmq.start()
    try:
        assert await engine.ready() == {"postgresql": True, "rabbitmq": True}
        message_id = await _send_notice(amqp_url, namespace)
        assert await _recorded(fresh_database_url, message_id) == "applied"
        assert await engine.terminate(within=15) == 0
        assert not engine.ready_file.exists()
    finally:
        await rabbitmq.stop()


async def test_a_service_started_while_postgresql_is_down_waits_for_it(
    serve: Any, fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    await _register(fresh_database_url)
    postgres = Forwarder(urlsplit(fresh_database_url).port or 5432)  # not listening yet
    engine = await serve(
        "engine", database_url=_through(fresh_database_url, postgres.port), amqp=amqp_url
    )
    await engine.logged("PostgreSQL is unreachable")
    await engine.logged("retrying in 1.0s")
    assert engine.process.returncode is None and not engine.ready_file.exists()

    await postgres.start()
    try:
        assert await engine.ready() == {"postgresql": True, "rabbitmq": True}
        message_id = await _send_notice(amqp_url, namespace)
        assert await _recorded(fresh_database_url, message_id) == "applied"
        assert await engine.terminate(within=15) == 0
    finally:
        await postgres.stop()


async def test_sigterm_stops_a_service_whose_messages_are_backing_off(
    serve: Any, fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    """The database goes away; each command fails and backs off, longer on each delivery (up
    to 30 s). SIGTERM must not wait for those waits (nor for the broker's 15 s grace)."""
    await _register(fresh_database_url)
    postgres = Forwarder(urlsplit(fresh_database_url).port or 5432)
    await postgres.start()
    engine = await serve(
        "engine", database_url=_through(fresh_database_url, postgres.port), amqp=amqp_url
    )
    assert await engine.ready() == {"postgresql": True, "rabbitmq": True}

    await postgres.stop()  # PostgreSQL is gone: every attempt now fails, a transient error
    for _ in range(3):
        await _send_notice(amqp_url, namespace)
    await engine.logged("retrying in 16.0s", within=90)
    assert engine.process.returncode is None

    loop = asyncio.get_running_loop()
    asked = loop.time()
    assert await engine.terminate(within=30) == 0
    assert loop.time() - asked < 8, "".join(engine.lines[-20:])


async def test_a_service_that_loses_rabbitmq_and_postgresql_comes_back_by_itself(
    serve: Any, fresh_database_url: str, amqp_url: str, namespace: str
) -> None:
    await _register(fresh_database_url)
    rabbitmq = Forwarder(urlsplit(amqp_url).port or 5672)
    postgres = Forwarder(urlsplit(fresh_database_url).port or 5432)
    await rabbitmq.start()
    await postgres.start()
    engine = await serve(
        "engine",
        database_url=_through(fresh_database_url, postgres.port),
        amqp=_through(amqp_url, rabbitmq.port),
    )
    try:
        assert await engine.ready() == {"postgresql": True, "rabbitmq": True}
        for lost in (rabbitmq, postgres):
            await lost.stop()
            await engine.logged("not ready")
            assert not engine.ready_file.exists()
            await lost.start()
            assert await engine.ready() == {"postgresql": True, "rabbitmq": True}
            message_id = await _send_notice(amqp_url, namespace)
            assert await _recorded(fresh_database_url, message_id) == "applied"
            engine.lines.clear()
        assert await engine.terminate(within=15) == 0
    finally:
        await rabbitmq.stop()
        await postgres.stop()
