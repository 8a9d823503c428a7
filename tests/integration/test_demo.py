"""`equityflow demo` prints a correct timeline: the dates are the clauses' own arithmetic."""

from __future__ import annotations

import re

import pytest

from services.demo import run_demo
from services.settings import Settings


async def test_demo_walks_both_transfers_and_prints_each_deadline_with_its_derivation(
    fresh_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from services.store.db import connect

    pool = await connect(fresh_database_url)
    try:  # another company's event, waiting for the real relay
        await pool.execute(
            "INSERT INTO outbox (company_id, exchange, routing_key, message_id, body) "
            "VALUES ('acme', 'events', 'event.rofr.x', 'acme-event-1', '{}')"
        )
        await run_demo(Settings(database_url=fresh_database_url, amqp_url=None))
        # The demo ran in a database of its own: nothing here was relayed or left behind.
        assert (
            await pool.fetchval("SELECT sent_at FROM outbox WHERE message_id = 'acme-event-1'")
            is None
        )
        assert await pool.fetchval("SELECT count(*) FROM companies") == 0
        assert not await pool.fetchval(
            "SELECT count(*) FROM pg_database WHERE datname LIKE 'equityflow_demo_%'"
        )
    finally:
        await pool.close()
    out = capsys.readouterr().out

    # FMP §16(b): certified mail is effective 72 h after deposit; §6(d)(iii) 30 days from receipt.
    assert (
        "deposited by certified mail 2026-03-02 09:00 PST + 72 hours → 2026-03-05 09:00 PST" in out
    )
    assert (
        "FMP §6(d)(iii): Disposition Notice received 2026-03-05 + 30 days → 2026-04-04 23:59 PDT"
        in out
    )
    # FMP §6(d)(iv): the owner then has 30 days; unsold, the right re-attaches.
    assert (
        "FMP §6(d)(iv): 30-day exercise period ended 2026-04-04 + 30 days → 2026-05-04 23:59 PDT"
        in out
    )
    assert "owner_sale_window ⟶ rofr_reattached" in out
    # RD ISO ¶11(d)/(e): 30 days, then no later than 120 days after delivery.
    assert (
        "RD ISO ¶11(d): Transfer Notice delivered 2026-03-02 + 30 days → 2026-04-01 23:59 PDT"
        in out
    )
    assert (
        "RD ISO ¶11(e): Transfer Notice delivered 2026-03-02 + 120 days → 2026-06-30 23:59 PDT"
        in out
    )
    assert "transfer_pending_approval ⟶ sold_to_third_party" in out
    # Both histories verify.
    assert len(re.findall(r"chain intact", out)) == 2
