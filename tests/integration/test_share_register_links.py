"""The share register and the workflows that record in it, on the real PostgreSQL: a ROFR sale
to a third party recorded once however often its message is delivered; a transfer the ROFR
holds void never shown as valid, whichever of the record and the void arrives first; an ISO
exercise's shares transferred within a year of exercise reported to the CFO once (RD ISO ¶14);
the holders of record read through the register view."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import asyncpg
import pytest

from services.clock import SimulatedClock
from services.engine import apply, apply_batch
from services.ids import share_register_id
from services.notices import record_event
from services.store import register_company
from services.store.registers import Plan, Valuation, record_plan, record_valuation
from services.terms_catalog import TermsCatalog
from workflows import registry
from workflows.kernel import Decision, Message
from workflows.messages import CommandMessage
from workflows.reads import HoldersOfRecord
from workflows.shares.register import holders_of_record, holding

FMP, RD_ISO = "fmp-1998-nso", "raydream-1992-iso"
SIGNED = [{"title": "president", "name": "P. Ames"}, {"title": "secretary", "name": "S. Byrd"}]
ALICE = {"id": "alice", "name": "Alice Owner", "address": "1 Main St, Valencia CA"}
BO = {"name": "Bo Buyer", "address": "9 Elm St, Fresno CA", "holder_id": "bo"}
COMPLIANCE = {"securities_act": "exempt", "exemption": "Securities Act §4(a)(1)",
              "state_law": "exempt", "s_corporation": "not_an_s_corporation"}  # fmt: skip


def pt(text: str, offset: str = "-08:00") -> str:
    return f"{text}{offset}"


def command(company: str, workflow_type: str, workflow_id: uuid.UUID, name: str, party: str,
            **payload: Any) -> CommandMessage:  # fmt: skip
    return CommandMessage(
        message_id=str(uuid.uuid4()), company_id=company, workflow_id=workflow_id,
        workflow_type=workflow_type, command=name, actor={"party": party, "name": "S. Byrd"},
        payload=payload,
    )  # fmt: skip


class Company:
    """One company of the tests: its id, the engine, its register."""

    def __init__(self, pool: asyncpg.Pool, clock: SimulatedClock, company_id: str) -> None:
        self.pool, self.clock, self.id = pool, clock, company_id
        self.catalog = TermsCatalog()
        self.register = uuid.UUID(share_register_id(company_id))

    async def send(self, m: CommandMessage, expect: str = "applied") -> Any:
        outcome = await apply(self.pool, m, self.clock, self.catalog)
        assert outcome.status == expect, outcome.refusal
        return outcome

    async def to_register(self, name: str, **payload: Any) -> Any:
        return await self.send(command(self.id, "share_register", self.register, name,
                                       "company", **payload))  # fmt: skip

    async def sent_by(self, cause: CommandMessage) -> list[CommandMessage]:
        """The commands ``cause``'s decision sent other workflows (from the outbox)."""
        rows = await self.pool.fetch(
            "SELECT body FROM outbox WHERE company_id = $1 AND exchange = 'commands' "
            "AND body->'caused_by'->>'message_id' = $2 ORDER BY id",
            self.id, cause.message_id,
        )  # fmt: skip
        return [CommandMessage.model_validate(r["body"]) for r in rows]

    async def register_data(self) -> dict[str, Any]:
        data = await self.pool.fetchval(
            "SELECT data FROM workflows WHERE workflow_id = $1", self.register
        )
        assert isinstance(data, dict)
        return data

    async def events(self, type_: str) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT body FROM outbox WHERE company_id = $1 AND exchange = 'events' "
            "AND body->>'type' = $2 ORDER BY id", self.id, type_,
        )  # fmt: skip
        return [dict(r["body"]) for r in rows]


async def company_of(pool: asyncpg.Pool, terms: str, now: datetime) -> Company:
    clock = SimulatedClock(pool)
    await clock.set(now)
    company_id = f"reg-{uuid.uuid4().hex[:8]}"
    await register_company(pool, company_id, terms)
    return Company(pool, clock, company_id)


# -- the ROFR -------------------------------------------------------------------------------


async def fmp_with_alices_certificate(pool: asyncpg.Pool) -> Company:
    c = await company_of(pool, FMP, datetime(2026, 5, 4, 22, tzinfo=UTC))
    await c.to_register("open_share_register", opened_at=pt("2026-01-05T09:00:00"),
                        kept_at="25876 The Old Road, Valencia CA", first_number=101,
                        signatures=SIGNED)  # fmt: skip
    legend = {"key": "first_refusal_and_repurchase", "clause": "FMP §6(f)", "text": "SUBJECT"}
    await c.to_register("issue_share_certificate", holder=ALICE, shares=1_000,
                        issued_at=pt("2026-01-10T10:00:00"), legends=[legend])  # fmt: skip
    return c


async def noticed_and_waived(c: Company) -> uuid.UUID:
    rofr = uuid.uuid4()
    await c.send(command(
        c.id, "rofr", rofr, "deliver_disposition_notice", "owner", holder="alice", shares=1_000,
        transferee={"name": "Bo Buyer"}, certificates=["101"],
        consideration={"form": "cash", "price_per_share": "2.50"},
        compliance_proof="counsel's letter", notice={"method": "personal",
        "delivered_at": pt("2026-03-02T10:00:00")},
    ))  # fmt: skip
    await c.send(command(c.id, "rofr", rofr, "waive_rofr", "company", notice={
        "method": "personal", "delivered_at": pt("2026-03-04T10:00:00")}))  # fmt: skip
    return rofr


def sale(c: Company, rofr: uuid.UUID) -> CommandMessage:
    return command(c.id, "rofr", rofr, "report_third_party_sale", "owner", buyer=BO,
                   shares=1_000, price_per_share="2.50", sold_at=pt("2026-03-10T10:00:00"),
                   compliance=COMPLIANCE)  # fmt: skip


async def test_a_rofr_sale_to_a_third_party_is_recorded_once_when_delivered_twice(
    pool: asyncpg.Pool,
) -> None:
    c = await fmp_with_alices_certificate(pool)
    rofr = await noticed_and_waived(c)
    sold = sale(c, rofr)
    assert (await c.send(sold)).state == "sold_to_third_party"
    [record] = await c.sent_by(sold)
    assert (record.workflow_id, record.command) == (c.register, "record_rofr_transfer")
    assert record.caused_by is not None and record.actor.reference == str(rofr)
    first, second = await apply_batch(pool, [record, record], c.clock, c.catalog)
    assert (first.status, second.status) == ("applied", "duplicate")
    assert (await c.send(record, expect="duplicate")).status == "duplicate"
    data = await c.register_data()
    assert holding(data, "bo").shares == {"common": 1_000}  # type: ignore[union-attr]
    assert holding(data, "alice").shares == {}  # type: ignore[union-attr]
    [transfer] = data["transfers"]
    assert transfer["surrendered"] == ["101"] and transfer["source"].startswith(f"rofr:{rofr}:")
    assert transfer["released_legends"] == ["first_refusal_and_repurchase"]  # FMP §6(d)(iv)
    assert len(await c.events("share_transfer_recorded")) == 1


@pytest.mark.parametrize("record_first", [True, False])
async def test_a_transfer_the_rofr_voids_is_never_shown_as_valid(
    pool: asyncpg.Pool, record_first: bool
) -> None:
    c = await fmp_with_alices_certificate(pool)
    rofr = await noticed_and_waived(c)
    sold = sale(c, rofr)
    await c.send(sold)
    [record] = await c.sent_by(sold)
    if record_first:
        await c.send(record)
        assert holding(await c.register_data(), "bo").shares == {"common": 1_000}  # type: ignore[union-attr]
    # The company's Exercise Notice, delivered before the waiver, entered after the sale: the
    # waiver and the sale cannot stand (FMP §6(i): null and void ab initio).
    exercise = command(c.id, "rofr", rofr, "exercise_rofr", "company", notice={
        "method": "personal", "delivered_at": pt("2026-03-03T10:00:00")})  # fmt: skip
    assert (await c.send(exercise)).state == "closing"
    [void] = await c.sent_by(exercise)
    assert (void.command, void.payload["clause"]) == ("void_rofr_transfer", "FMP §6(i)")
    await c.send(void)
    if not record_first:
        refused = await c.send(record, expect="refused")
        assert (refused.refusal["code"], refused.refusal["rule"]) == ("void_transfer", "FMP §6(i)")
    data = await c.register_data()
    for at in (None, datetime(2026, 3, 20, tzinfo=UTC)):  # now, and as of after the sale
        assert holders_of_record(data, at) == 1
        assert holding(data, "alice", at).shares == {"common": 1_000}  # type: ignore[union-attr]
    bo = holding(data, "bo")
    assert bo is None or bo.shares == {}
    assert all(t.get("void") for t in data.get("transfers") or [])


# -- the ISO exercise and the disposition watch ----------------------------------------------

RD_GRANT = {
    "optionee": "sam", "optionee_name": "Sam Lee", "plan": "rd-1992", "shares": 4_800,
    "exercise_price": "0.20", "grant_date": "1992-10-30", "initial_vesting_date": "1993-04-30",
}  # fmt: skip
RD_CIRCUMSTANCES = {
    "fair_market_value": {"price_per_share": "1.00", "effective_on": "1994-04-01",
                          "method": "board_good_faith", "resolution": "Board resolution 94-3"},
    "securities_law": {"basis": "exemption_opinion_of_counsel", "reference": "opinion 94-1"},
}  # fmt: skip
REPRESENTATIONS = ["investment_intent", "over_eighteen", "own_account",
                   "disqualifying_disposition_notice"]  # fmt: skip


async def iso_exercised(pool: asyncpg.Pool) -> tuple[Company, CommandMessage]:
    """An RD ISO exercise of 500 shares, notice 1994-05-02, certificate RD-0042 issued 05-09;
    the command its issuance sent the register."""
    c = await company_of(pool, RD_ISO, datetime(1994, 5, 9, 17, tzinfo=UTC))
    await c.to_register("open_share_register", opened_at=pt("1994-01-03T09:00:00"),
                        kept_at="Mountain View CA")  # fmt: skip
    # The grant the exercise reads through the register view (RD ISO ¶1(g): 13/48 by 1994-05-02).
    await record_plan(pool, c.id, Plan("rd-1992", date(1992, 3, 19), None), by=None)
    await record_valuation(pool, c.id, Valuation(
        date(1992, 10, 1), Decimal("0.20"), "board_good_faith", "BR-1992-09"), by=None)  # fmt: skip
    grant = uuid.uuid4()
    await c.send(command(c.id, "grant", grant, "grant_option", "board", **RD_GRANT))
    exercise = uuid.uuid4()
    await c.send(command(
        c.id, "option_exercise", exercise, "deliver_exercise_notice", "owner", grant=str(grant),
        shares=500,
        notice={"method": "certified_mail", "delivered_at": pt("1994-05-02T10:00:00", "-07:00")},
        exercised_by={"name": "Sam Lee"}, payment=[{"form": "cash", "amount": "100.00"}],
        representations=REPRESENTATIONS, circumstances=RD_CIRCUMSTANCES,
    ))  # fmt: skip
    issue = command(c.id, "option_exercise", exercise, "issue_certificate", "company",
                    certificate_number="RD-0042", issued_at=pt("1994-05-09T09:00:00", "-07:00"),
                    holder_address="12 Oak Ave, Mountain View CA")  # fmt: skip
    assert (await c.send(issue)).state == "completed"
    [issuance] = [m for m in await c.sent_by(issue) if m.workflow_type == "share_register"]
    return c, issuance


async def test_an_iso_exercises_shares_transferred_within_a_year_notify_the_cfo_once(
    pool: asyncpg.Pool,
) -> None:
    c, issuance = await iso_exercised(pool)
    assert issuance.command == "record_exercise_issuance"
    assert issuance.payload["watch"]["ends_on"] == "1995-05-02"  # exercise + 1 year, RD ISO ¶14
    await c.send(issuance)
    await c.send(issuance, expect="duplicate")
    holder = issuance.payload["holder"]["id"]
    await c.clock.set(datetime(1995, 3, 2, 17, tzinfo=UTC))
    transfer = command(c.id, "share_register", c.register, "record_share_transfer", "company",
                       surrendered=[{"number": "RD-0042", "endorsement": "endorsed"}],
                       transferee={"id": "bo", "name": "Bo Buyer", "address": "9 Elm St"},
                       shares=200, effective_at=pt("1995-03-01T12:00:00"))  # fmt: skip
    await c.send(transfer)
    await c.send(transfer, expect="duplicate")
    [reported] = await c.events("disqualifying_disposition_reported")
    p = reported["payload"]
    assert (p["holder"], p["shares"], p["certificate"]) == (holder, 200, "RD-0042")
    assert (p["notify"], p["clause"]) == ("Chief Financial Officer", "RD ISO ¶14")
    assert p["exercise"] == str(issuance.caused_by.workflow_id)  # type: ignore[union-attr]
    # The notices service records it as a notice to the company (the CFO), once.
    body = await pool.fetchval(
        "SELECT body::text FROM outbox WHERE message_id = $1", reported["event_id"]
    )
    assert await record_event(pool, c.clock, body.encode()) is True
    assert await record_event(pool, c.clock, body.encode()) is False
    kind = await pool.fetchval(
        "SELECT kind FROM notices WHERE notice_id = $1", reported["event_id"]
    )
    assert kind == "disqualifying_disposition"


# -- the holders of record, read through the register view -------------------------------------

COUNTER = "holders_counter"


class Counter:
    """A test kind that reads the company's holders of record as of a payload's instant."""

    KIND = COUNTER

    class COMMANDS:
        names = ("count",)

    @staticmethod
    def reads(state: str | None, data: Mapping[str, Any], message: Message) -> HoldersOfRecord:
        return HoldersOfRecord(datetime.fromisoformat(message.payload["at"]))  # type: ignore[union-attr]

    @staticmethod
    def decide(state: str | None, data: Mapping[str, Any], message: Message, now: datetime,
               terms: Any, facts: Any = None) -> Decision:  # fmt: skip
        counted = None if facts is None else facts.holders_of_record
        return Decision("counted", {"holders_of_record": counted})


@pytest.fixture
def counter_kind() -> Iterator[None]:
    kinds: Any = registry.KINDS
    kinds[COUNTER] = Counter
    yield
    del kinds[COUNTER]


async def test_other_workflows_read_the_holders_of_record_as_of_an_instant(
    pool: asyncpg.Pool, counter_kind: None
) -> None:
    c = await fmp_with_alices_certificate(pool)
    rofr = await noticed_and_waived(c)
    sold = sale(c, rofr)
    await c.send(sold)
    [record] = await c.sent_by(sold)
    await c.send(record)
    for at, expected in (("2026-01-09T00:00:00", 0), ("2026-02-01T00:00:00", 1),
                         ("2026-04-01T00:00:00", 1)):  # fmt: skip
        counter = uuid.uuid4()
        await c.send(command(c.id, COUNTER, counter, "count", "company", at=pt(at)))
        data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", counter)
        assert data["holders_of_record"] == expected, at
    other = await company_of(pool, FMP, datetime(2026, 5, 4, 22, tzinfo=UTC))  # no register
    counter = uuid.uuid4()
    await other.send(
        command(other.id, COUNTER, counter, "count", "company", at=pt("2026-04-01T00:00:00"))
    )
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", counter)
    assert data["holders_of_record"] is None


async def test_a_reader_in_the_same_batch_sees_what_the_batch_entered_before_it(
    pool: asyncpg.Pool, counter_kind: None
) -> None:
    c = await fmp_with_alices_certificate(pool)
    issue = command(c.id, "share_register", c.register, "issue_share_certificate", "company",
                    holder={"id": "dee", "name": "Dee", "address": "3 Pine St"}, shares=10,
                    issued_at=pt("2026-02-01T10:00:00"))  # fmt: skip
    counter = uuid.uuid4()
    count = command(c.id, COUNTER, counter, "count", "company", at=pt("2026-03-01T00:00:00"))
    outcomes = await apply_batch(pool, [issue, count], c.clock, c.catalog)
    assert [o.status for o in outcomes] == ["applied", "applied"]
    data = await pool.fetchval("SELECT data FROM workflows WHERE workflow_id = $1", counter)
    assert data["holders_of_record"] == 2
