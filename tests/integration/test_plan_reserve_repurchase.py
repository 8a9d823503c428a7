"""RD Plan ¶4 on the real PostgreSQL, through the engine: shares an exercise issued under the
plan and the Company bought back at a ROFR closing return to the plan's reserve, read by the
next grant through the register view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from test_share_register_links import Company, command, iso_exercised, pt

PLAN = "rd-1992"
RESERVE = 506_280  # RD Plan ¶4


def grant(c: Company, optionee: str, shares: int) -> Any:
    return command(
        c.id, "grant", uuid.uuid4(), "grant_option", "board", optionee=optionee, plan=PLAN,
        shares=shares, exercise_price="0.20", grant_date="1995-06-01",
        initial_vesting_date="1995-07-01",
    )  # fmt: skip


def notice(holder: str) -> dict[str, Any]:
    return {
        "holder": holder, "shares": 500, "certificates": ["RD-0042"],
        "transferee": {"name": "Dan Transferee", "address": "1 Main St, Palo Alto"},
        "consideration": {"form": "cash", "price_per_share": "4.00"},
        "bona_fide_evidence": "signed purchase agreement",
        "signed_by": [{"party": "owner", "name": "Sam Lee"},
                      {"party": "transferee", "name": "Dan Transferee"}],
        "binding_commitment": True,
        "notice": {"method": "certified_mail", "delivered_at": pt("1995-05-02T11:00:00", "-07:00")},
    }  # fmt: skip


async def company_repurchases(c: Company, holder: str) -> Any:
    """The Company exercises its right of first refusal on Sam's 500 shares and closes: the
    command the closing sent the share register."""
    rofr = uuid.uuid4()
    await c.send(command(c.id, "rofr", rofr, "deliver_transfer_notice", "owner", **notice(holder)))
    await c.send(command(c.id, "rofr", rofr, "exercise_rofr", "company", notice={
        "method": "personal", "delivered_at": pt("1995-05-10T09:00:00", "-07:00")}))  # fmt: skip
    close = command(c.id, "rofr", rofr, "complete_closing", "company",
                    closed_at=pt("1995-05-20T10:00:00", "-07:00"))  # fmt: skip
    assert (await c.send(close)).state == "repurchased"
    [record] = [m for m in await c.sent_by(close) if m.workflow_type == "share_register"]
    return record


async def test_shares_the_company_repurchases_return_to_the_plan_reserve(
    pool: asyncpg.Pool,
) -> None:
    c, issuance = await iso_exercised(pool)  # Sam's grant of 4,800; 500 exercised (RD-0042)
    assert issuance.payload["plan"] == PLAN
    await c.send(issuance)
    await c.send(grant(c, "dana", RESERVE - 4_800 - 100))  # the reserve nearly used
    await c.clock.set(datetime(1995, 6, 1, 17, tzinfo=UTC))
    refused = await c.send(grant(c, "erin", 500), expect="refused")
    assert refused.refusal["rule"] == "RD Plan ¶4"
    assert "506,180 are committed: 100 may be granted, not 500" in refused.refusal["reason"]

    record = await company_repurchases(c, issuance.payload["holder"]["id"])
    assert record.command == "record_rofr_repurchase"
    await c.send(record)
    await c.send(record, expect="duplicate")  # counted once, however often delivered
    data = await c.register_data()
    assert data["certificates"]["RD-0042"]["cancelled"]["returned_to_plan"] == PLAN
    assert data["plan_returns"] == {PLAN: 500}

    accepted = await c.send(grant(c, "erin", 500))
    [granted] = [e for e in accepted.events if e["type"] == "option_granted"]
    texts = [check["text"] for check in granted["payload"]["checks"]]
    assert "500 of 600 shares free (500 repurchased by the Company returned)" in texts, texts
    over = await c.send(grant(c, "finn", 101), expect="refused")
    assert "100 may be granted, not 101" in over.refusal["reason"]
