"""Shared fixtures: the real PostgreSQL and RabbitMQ on localhost.

Integration tests talk to real servers. Locally, a missing server skips them with the reason;
with CI=true a missing server fails them, so a CI run can never pass without having tested them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.terms_catalog import TermsCatalog

TEST_DATABASE_URL = os.environ.get(
    "EQUITYFLOW_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
TEST_AMQP_URL = os.environ.get("EQUITYFLOW_TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _unavailable(what: str, error: Exception) -> None:
    message = f"{what} is not reachable ({type(error).__name__}: {error})"
    if IN_CI:
        pytest.fail(f"{message}; CI=true, so this fails instead of skipping", pytrace=False)
    pytest.skip(message)


def _with_database(url: str, database: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{database}"


async def _create_database() -> str:
    try:
        admin = await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        _unavailable(f"PostgreSQL at {TEST_DATABASE_URL}", error)
    name = f"equityflow_test_{uuid.uuid4().hex[:12]}"
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return name


async def _drop_database(name: str) -> None:
    admin = await asyncpg.connect(TEST_DATABASE_URL, timeout=5)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def _migrated_database() -> str:
    from services.store.db import connect, migrate

    name = await _create_database()
    pool = await connect(_with_database(TEST_DATABASE_URL, name))
    try:
        await migrate(pool)
    finally:
        await pool.close()
    return name


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh, migrated database shared by the session; tests use their own company ids."""
    name = await _migrated_database()
    yield _with_database(TEST_DATABASE_URL, name)
    await _drop_database(name)


@pytest.fixture
async def fresh_database_url() -> AsyncIterator[str]:
    """A database of its own, for tests that count every row (timers, outbox)."""
    name = await _migrated_database()
    yield _with_database(TEST_DATABASE_URL, name)
    await _drop_database(name)


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    from services.store.db import connect

    p = await connect(database_url)
    yield p
    await p.close()


@pytest.fixture(scope="session")
async def amqp_url() -> str:
    import aio_pika

    try:
        connection = await aio_pika.connect(TEST_AMQP_URL, timeout=5)
    except Exception as error:  # aio-pika raises several unrelated types on refusal
        _unavailable(f"RabbitMQ at {TEST_AMQP_URL}", error)
    await connection.close()
    return TEST_AMQP_URL


@pytest.fixture
def namespace() -> str:
    """A unique prefix for exchanges and queues, so tests never see each other's messages."""
    return f"eftest-{uuid.uuid4().hex[:10]}"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if {"integration", "e2e"} & set(item.path.parts):
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def catalog() -> TermsCatalog:
    """The shipped presets, as every service loads them."""
    return TermsCatalog()
