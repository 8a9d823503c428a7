"""The typed container every entry point works with: what ``services.bootstrap`` built.

Handlers never build a part nor reach for a global: the HTTP routers read the container through
FastAPI dependencies (``services.api.deps``), the bus services are handed its parts, and the
command-line tools and the demo hold it for as long as they run.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from services.bus.publisher import Publisher
from services.bus.runner import Bus
from services.bus.topology import Topology
from services.clock import Clock
from services.readiness import Readiness
from services.settings import Settings
from services.terms_catalog import TermsCatalog


@dataclass(frozen=True)
class Runtime:
    settings: Settings
    database_url: str
    pool: asyncpg.Pool
    clock: Clock
    catalog: TermsCatalog
    topology: Topology
    #: The broker with this process's bus services running on it (None: no bus services here,
    #: as in ``serve api``, a command-line tool, or before the demo starts a story's services).
    bus: Bus | None = None

    @property
    def publisher(self) -> Publisher | None:
        """What the relay and the deadlines service publish with (None without a bus)."""
        return None if self.bus is None else self.bus.publisher

    @property
    def readiness(self) -> Readiness:
        """What this process must stay connected to: PostgreSQL, and RabbitMQ when its bus
        services run on it (the in-memory broker is never down)."""
        broker = None if self.bus is None or self.bus.in_memory else self.bus.broker
        return Readiness(self.pool, broker)
