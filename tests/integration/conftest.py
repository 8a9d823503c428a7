"""Fixtures the integration tests share: a database of a test's own, and the bus's topology.

A test that counts every row (workflows, timers, history) takes ``fresh_pool``; the others take
``pool`` (tests/conftest.py), on the database the session shares.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from services.bus.runner import delete_topology
from services.bus.topology import Topology
from services.store.db import connect


@pytest.fixture
async def fresh_pool(fresh_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a database of the test's own (``fresh_database_url``)."""
    p = await connect(fresh_database_url)
    yield p
    await p.close()


@pytest.fixture
async def topology(
    amqp_url: str, namespace: str, request: pytest.FixtureRequest
) -> AsyncIterator[Topology]:
    """The exchanges and queues of the test's own namespace, deleted after it. A module that
    needs other settings says so with ``pytest.mark.topology(engine_shards=4, ...)``, whose
    keywords go to ``Topology``."""
    marker = request.node.get_closest_marker("topology")
    t = Topology(namespace, **(marker.kwargs if marker else {}))
    yield t
    await delete_topology(amqp_url, t)
