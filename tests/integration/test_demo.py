"""`equityflow demo` prints a stock administrator's timeline whose dates are the clauses' own
arithmetic, and leaves nothing behind."""

from __future__ import annotations

import re

import aio_pika
import pytest

from services.bus.topology import Topology
from services.demo import run_demo
from services.settings import Settings
from workflows.rofr.machine import RofrMachine
from workflows.rofr.words import EVENT_SENTENCES


async def _queue_exists(amqp_url: str, name: str) -> bool:
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        await channel.declare_queue(name, passive=True)
        return True
    except aio_pika.exceptions.ChannelClosed:  # 404 NOT_FOUND
        return False
    finally:
        await connection.close()


async def test_demo_walks_both_transfers_and_prints_each_deadline_with_its_derivation(
    fresh_database_url: str, amqp_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.store.db import connect

    pool = await connect(fresh_database_url)
    try:  # another company's event, waiting for the real relay
        await pool.execute(
            "INSERT INTO outbox (company_id, exchange, routing_key, message_id, body) "
            "VALUES ('acme', 'events', 'event.rofr.x', 'acme-event-1', '{}')"
        )
        await run_demo(Settings(database_url=fresh_database_url, amqp_url=amqp_url))
        # The demo ran in a database of its own: nothing here was relayed or left behind.
        assert (
            await pool.fetchval("SELECT sent_at FROM outbox WHERE message_id = 'acme-event-1'")
            is None
        )
        assert await pool.fetchval("SELECT count(*) FROM companies") == 0
        out = capsys.readouterr().out
        # Its own database, by name: other demos may be running on the same server.
        database = re.search(r"Working on (equityflow_demo_[0-9a-f]+),", out)
        assert database, out[:600]
        assert not await pool.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname = $1", database[1]
        )
    finally:
        await pool.close()
    text = " ".join(out.split())  # the words, whatever the wrapping
    # Its own exchanges and queues on RabbitMQ are gone too.
    namespace = re.search(r"\((equityflow-demo-[0-9a-f]+)\.\*\)", text)
    assert namespace, text[:600]
    assert not await _queue_exists(amqp_url, Topology(namespace[1]).engine_queue.name)
    assert "; its exchanges and queues, deleted." in text

    # FMP §16(b): certified mail is effective 72 h after deposit; §6(d)(iii) 30 days from receipt.
    assert "deposited by certified mail 2026-03-02 09:00 PST + 72 hours → 2026-03-05 09:00 PST" in (
        text
    )
    assert (
        "FMP §6(d)(iii): Disposition Notice received 2026-03-05 + 30 days → 2026-04-04 23:59 PDT"
        in text
    )
    # FMP §6(d)(iv): the owner then has 30 days; unsold, the right re-attaches.
    assert (
        "FMP §6(d)(iv): 30-day exercise period ended 2026-04-04 + 30 days → 2026-05-04 23:59 PDT"
        in text
    )
    # RD ISO ¶11(d)/(e): 30 days, then no later than 120 days after delivery.
    assert (
        "RD ISO ¶11(d): Transfer Notice delivered 2026-03-02 + 30 days → 2026-04-01 23:59 PDT"
        in text
    )
    assert (
        "RD ISO ¶11(e): Transfer Notice delivered 2026-03-02 + 120 days → 2026-06-30 23:59 PDT"
        in text
    )
    # The agreements by name, and what the citations abbreviate.
    assert "Future Media Productions, Inc. 1998 Stock Incentive Plan, Non-Statutory Stock" in text
    assert "Ray Dream, Inc. 1992 Stock Option Plan, Incentive Stock Option Agreement" in text
    assert "FMP: Future Media Productions, Inc. Option Certificate" in text
    assert "RD ISO: Ray Dream, Inc. Incentive Stock Option Agreement" in text
    # Plain words for what happened, and each workflow's outcome.
    assert "The Company's election window closed. • The owner's sale window opened" in text
    assert "Outcome: The sale window closed with shares unsold: the Right of First Refusal" in text
    assert "Outcome: The shares were sold to the third party" in text
    assert text.count("Outcome: ") == 2
    assert text.count("in 1 workflow: chain intact") == 2
    # No internal name reaches the reader, and every line fits 100 columns.
    internal = {s.id for s in RofrMachine.states if "_" in s.id} | set(EVENT_SENTENCES)
    assert not [name for name in internal if name in out]
    assert max(len(line) for line in out.splitlines()) <= 100
