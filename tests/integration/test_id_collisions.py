"""One company can never take the id of another company's event (finding: a command of company
``timer`` whose message id was ``"<victim>\\x1f<victim's timer id>"`` got the id of the victim's
timer event, and the victim's deadline — FMP §6(d)(iii), the end of the election window — then
failed on every delivery and never took effect).

The attacker's message is built past the edge's validation (which now refuses U+001F in a
message id) to show the derivation itself is safe: a message id is data, never a separator.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pydantic import ValidationError

from services.bus.runner import running_bus
from services.bus.tap import take
from services.bus.topology import Topology
from services.clock import SimulatedClock
from services.deadlines import fire_due_timers
from services.engine import apply
from services.store import register_company
from services.terms_catalog import TermsCatalog
from workflows.messages import ActorIn, CommandMessage, TimerBundle

NOW = datetime(2026, 3, 2, 17, tzinfo=UTC)
VICTIM = "acme"
NOTICE = {
    "holder": "Olivia Owner", "shares": 1000, "transferee": {"name": "Bob Buyer"},
    "consideration": {"form": "cash", "price_per_share": "2.50"},
    "compliance_proof": "opinion of counsel",
    "notice": {"method": "personal", "delivered_at": "2026-03-02T16:00:00+00:00"},
}  # fmt: skip


def _attack(victim_timer_id: str) -> CommandMessage:
    fields: dict[str, Any] = {
        "kind": "command",
        "message_id": f"{VICTIM}\x1f{victim_timer_id}",
        "company_id": "timer",
        "workflow_id": uuid.uuid4(),  # no such workflow: refused, with a command_refused event
        "workflow_type": "rofr",
        "command": "waive_rofr",
        "actor": ActorIn(party="company"),
        "payload": {},
        "terms": None,
    }
    with pytest.raises(ValidationError, match="message_id"):
        CommandMessage.model_validate(fields)  # the edge refuses it outright now
    return CommandMessage.model_construct(**fields)


async def test_another_company_s_message_id_cannot_stop_a_deadline_from_firing(
    fresh_pool: asyncpg.Pool, catalog: TermsCatalog, amqp_url: str, topology: Topology
) -> None:
    clock = SimulatedClock(fresh_pool)
    await clock.set(NOW)
    await register_company(fresh_pool, VICTIM, "fmp-1998-nso")
    await register_company(fresh_pool, "timer", "fmp-1998-nso")
    workflow_id = uuid.uuid4()
    start = CommandMessage(
        message_id="notice-1", company_id=VICTIM, workflow_id=workflow_id, workflow_type="rofr",
        command="deliver_disposition_notice", actor=ActorIn(party="owner"), payload=NOTICE,
    )  # fmt: skip
    started = await apply(fresh_pool, start, clock, catalog)
    assert started.state == "election_window", started.refusal
    [timer_id] = [e["payload"]["timer_id"] for e in started.events if e["type"] == "deadline_set"]

    refused = await apply(fresh_pool, _attack(timer_id), clock, catalog)
    assert refused.status == "refused"

    await clock.advance(timedelta(days=31))  # past the end of the election window
    async with running_bus(amqp_url, topology) as bus:
        assert await fire_due_timers(fresh_pool, clock, bus.publisher, topology) == 1
    [bundle] = await take(amqp_url, topology.engine_queue_of(workflow_id).name, 1)
    [fired] = TimerBundle.model_validate_json(bundle.body).timers
    expired = await apply(fresh_pool, fired, clock, catalog)
    assert (expired.status, expired.state) == ("applied", "owner_sale_window")
    status = await fresh_pool.fetchval(
        "SELECT status FROM timers WHERE timer_id = $1::uuid", timer_id
    )
    assert status == "applied"


async def test_a_refusal_stored_under_the_old_id_is_still_the_answer_to_its_duplicate(
    fresh_pool: asyncpg.Pool, catalog: TermsCatalog
) -> None:
    """Ids stored before the unambiguous derivation are kept: a refused command recorded then
    still gets its first answer back when it is redelivered after the upgrade."""
    from services.engine.events import event_id, legacy_event_id

    clock = SimulatedClock(fresh_pool)
    await clock.set(NOW)
    await register_company(fresh_pool, VICTIM, "fmp-1998-nso")
    waive = CommandMessage(
        message_id="waive-1", company_id=VICTIM, workflow_id=uuid.uuid4(), workflow_type="rofr",
        command="waive_rofr", actor=ActorIn(party="company"),
    )  # fmt: skip
    first = await apply(fresh_pool, waive, clock, catalog)
    assert first.status == "refused" and first.events
    await fresh_pool.execute(  # as a database written before the upgrade holds it
        "UPDATE outbox SET message_id = $1 WHERE message_id = $2",
        legacy_event_id(VICTIM, "waive-1", 0, "command"),
        event_id(VICTIM, "waive-1", 0, "command"),
    )
    again = await apply(fresh_pool, waive, clock, catalog)
    assert (again.status, again.refusal, again.events) == ("duplicate", first.refusal, first.events)
