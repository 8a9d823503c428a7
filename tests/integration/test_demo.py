"""`equityflow demo` prints a stock administrator's timeline whose dates are the clauses' own
arithmetic (two ROFR transfers; an option granted, exercised, its holder terminated and the rest
expired), and leaves nothing behind."""

from __future__ import annotations

import re

import aio_pika
import pytest

from services.bus.topology import Topology
from services.demo import run_demo
from services.settings import Settings
from workflows.exercise.machine import ExerciseMachine
from workflows.exercise.words import EVENT_SENTENCES as EXERCISE_EVENTS
from workflows.grants.machine import GrantMachine
from workflows.grants.words import EVENT_SENTENCES as GRANT_EVENTS
from workflows.rofr.machine import RofrMachine
from workflows.rofr.words import EVENT_SENTENCES
from workflows.shares.machine import RegisterMachine
from workflows.shares.words import EVENT_SENTENCES as REGISTER_EVENTS
from workflows.termination.machine import TerminationMachine
from workflows.termination.words import EVENT_SENTENCES as TERMINATION_EVENTS


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


async def test_demo_walks_the_transfers_and_the_option_and_prints_each_deadline_with_its_derivation(
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

    # The option: granted at the Board's FMV from the valuation register, vested by FMP §3(a).
    assert "fair market value $1.50 a share from 2025-01-10, by the Board's good faith" in text
    assert "The Board granted Alex Rivera a non-statutory option on 4,000 shares at $1.50" in text
    assert "Option Expiration Date 2035-01-15 → 2035-01-15 23:59 PST" in text
    assert "1,000 of 4,000 shares have vested; 1,000 may be exercised." in text
    assert "FMP §3(a): on 2026-01-15: 1000 from 2026-01-15 → 1000 of 4000" in text
    # The exercise: the Election deemed approved when the Tax Date passed (FMP §13(c)(iii)).
    assert "FMP §13(c)(iii): Tax Date 2026-03-16 → 2026-03-16 23:59 PDT" in text
    assert (
        "Tue 2026-03-17 00:00 PDT Deadline passes: the Board has not acted on the Election by the "
        "Tax Date. • The Board did not act on the Election by the Tax Date: it is deemed approved "
        "(FMP §13(c)(iii))." in text
    )
    # The certificate with its number: the 400 shares bought less the $300.00 withheld at $4.00.
    assert (
        "Certificate FMP-0042 was issued in the name of Alex Rivera for 325 shares (400 bought, "
        "75 withheld for the tax), with the legend of FMP §6(f)." in text
    )
    # The termination: the window from FMP §5(a), and its timer expiring the unexercised part.
    assert "The optionee's service ended on 2027-01-15, by resignation (FMP §5(a))" in text
    assert "FMP §5(a): terminated 2027-01-15 + 30 days → 2027-02-14 23:59 PST" in text

    # Ray Dream: the grant checked against the registers, each check with its clause.
    assert "The Board granted Carol Optionee an incentive stock option on 4,800 shares" in text
    assert (
        "RD ISO ¶1(h); RD Plan ¶7(B): granted 1996-02-29, 10th anniversary less one day → "
        "2006-02-27" in text
    )
    assert (
        "RD Plan ¶6(A): price $0.20 ≥ 100% of the Board's FMV $0.20 (determined 1996-02-15, "
        "BR-1996-01, board good faith)" in text
    )
    assert "RD Plan ¶4: 4,800 of 506,280 shares free" in text
    assert "RD Plan ¶5: granted within 10 years from 1992-03-19" in text
    assert (
        "1/48 on the Initial Vesting Date 1996-08-31 + 5 full months → Vested Ratio 6/48 × "
        "4800 = 600" in text
    )
    assert "Certificate RD-0107 was issued in the name of Carol Optionee for 500 shares" in text
    assert (
        "A disposition of these shares on or before 1998-02-28 must be reported to the Chief "
        "Financial Officer (RD ISO ¶14" in text
    )
    # Three months from March 31 end on June 30, the month's last day (RD ISO ¶7(a)).
    assert (
        "RD ISO ¶7(a): employment terminated 1997-03-31 + 3 months → 1997-06-30 23:59 PDT" in text
    )

    # In both, what stayed exercisable at termination and was not exercised in the window expired
    # when its timer fired, and the grant recorded it.
    kept = re.findall(r"The optionee's service ended on .*? ([\d,]+) stay exercisable", text)
    expired = re.findall(
        r"Deadline passes: [^•]*? • The post-termination window closed: ([\d,]+) shares not "
        r"exercised expired and returned to the plan's pool",
        text,
    )
    # What stayed exercisable is what vested less what the exercise bought: FMP 2,000 − 400,
    # RD 800 − 500 (the exercise told its grant on issuance, FMP §4(b); RD ISO ¶4(a)).
    assert kept == ["1,600", "300"] and expired == kept, text[-3000:]
    assert text.count("The grant recorded the end of service on") == 4
    assert text.count("Outcome: The option stays on the Company's books") == 2
    assert text.count("The exercise is complete: the certificate was issued.") == 2
    assert text.count("Outcome: ") == 4
    for company in ("Future Media Productions, Inc.", "Ray Dream, Inc."):
        assert re.search(rf"{company}: \d+ history rows in 5 workflows: chain intact", text)
    # The share register records what the other workflows completed (BYL Art. VIII §2).
    assert (
        "The share register records the transfer of 500 shares from carol to Dan Transferee on "
        "surrender of certificate 1" in text
    )
    assert (
        "The share register records certificate FMP-0042 for 325 common shares in the name of "
        "Alex Rivera." in text
    )
    # No internal name reaches the reader, and every line fits 100 columns.
    machines = (RofrMachine, GrantMachine, ExerciseMachine, TerminationMachine, RegisterMachine)
    events = {*EVENT_SENTENCES, *GRANT_EVENTS, *EXERCISE_EVENTS, *TERMINATION_EVENTS,
              *REGISTER_EVENTS}  # fmt: skip
    internal = {s.id for m in machines for s in m.states if "_" in s.id} | events
    assert not [name for name in internal if name in out]
    assert max(len(line) for line in out.splitlines()) <= 100
