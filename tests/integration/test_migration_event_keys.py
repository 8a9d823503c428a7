"""Migration 0007: events not yet published get the routing key that carries their company.

Integrations bind with ``event.<company>.#`` (the only keys their topic permission allows), so
an event still in the outbox under the old ``event.<workflow_type>.<type>`` key would reach none
of them.
"""

from __future__ import annotations

import asyncpg

from services.store.db import connect, migrate, migration_files
from workflows.messages import event_routing_key


async def test_unsent_events_get_their_companys_routing_key_and_sent_ones_stay(
    fresh_database_url: str,
) -> None:
    admin = await asyncpg.connect(fresh_database_url)
    try:
        await admin.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        await admin.execute(
            "CREATE TABLE schema_migrations (name text PRIMARY KEY, applied_at timestamptz "
            "NOT NULL DEFAULT now())"
        )
        for path in migration_files():
            if path.stem < "0007":
                await admin.execute(path.read_text())
                await admin.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.stem)
        rows = [  # company, exchange, key, sent
            ("acme.eu", "events", "event.rofr.deadline_set", False),
            ("globex", "events", "event.rofr.command_refused", False),
            ("globex", "events", "event.rofr.rofr_exercised", True),
            ("globex", "commands", "command.rofr.exercise_rofr", False),
        ]
        for n, (company, exchange, key, sent) in enumerate(rows):
            await admin.execute(
                "INSERT INTO outbox (company_id, exchange, routing_key, message_id, body, sent_at)"
                " VALUES ($1, $2, $3, $4, '{}', CASE WHEN $5 THEN now() END)",
                company, exchange, key, f"m{n}", sent,
            )  # fmt: skip
    finally:
        await admin.close()
    pool = await connect(fresh_database_url)
    try:
        assert "0007_integrations" in await migrate(pool)
        keys = [r["routing_key"] for r in await pool.fetch("SELECT * FROM outbox ORDER BY id")]
    finally:
        await pool.close()
    assert keys == [
        event_routing_key("acme.eu", "rofr", "deadline_set"),  # event.acme%2Eeu.rofr.…
        event_routing_key("globex", "rofr", "command_refused"),
        "event.rofr.rofr_exercised",  # published already, under the key it had
        "command.rofr.exercise_rofr",
    ]
