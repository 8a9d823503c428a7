"""An ISO exercise's certificate goes to the share register with its disqualifying-disposition
watch (RD ISO ¶14): the internal command the issuance sends, and what the register makes of a
transfer of those shares within the watch."""

from __future__ import annotations

from exercise_flow import RD_ISO, cash, flow
from kind_flow import KindFlow, event, iso
from test_exercise_raydream import ISSUE, rd_notice
from test_share_register import BO

from workflows.kernel import Send


def issued() -> Send:
    f = flow(RD_ISO)
    f.send("deliver_exercise_notice", "owner", "1994-05-02T11:00", rd_notice([cash("500.00")]))
    d = f.send("issue_certificate", "company", "1994-05-09T09:00",
               {**ISSUE, "holder_address": "12 Oak Ave, Mountain View CA"})  # fmt: skip
    [send] = [s for s in d.send if isinstance(s, Send) and s.workflow_type == "share_register"]
    return send


def test_the_issuance_sends_the_register_its_certificate_and_watch() -> None:
    send = issued()
    assert (send.workflow_type, send.command, send.company_one) == (
        "share_register", "record_exercise_issuance", True,
    )  # fmt: skip
    p = dict(send.payload)
    assert (p["number"], p["shares"], p["issued_at"]) == ("RD-0042", 500, ISSUE["issued_at"])
    assert p["holder"]["name"] == "Sam Lee" and p["holder"]["address"].startswith("12 Oak")
    assert p["watch"]["clause"] == "RD ISO ¶14" and p["watch"]["ends_on"] == "1995-05-02"


def test_a_transfer_of_those_shares_within_a_year_of_exercise_is_reported_to_the_cfo() -> None:
    send = issued()
    register = KindFlow("share_register", RD_ISO)
    opening = {"opened_at": iso("1994-01-03T09:00"), "kept_at": "Mountain View CA"}
    register.send("open_share_register", "company", "1994-01-03T09:00", opening)
    register.send(send.command, "system", "1994-05-09T09:05", dict(send.payload),
                  actor="option_exercise", reference="ex-1")  # fmt: skip
    holder = send.payload["holder"]["id"]
    transfer = {
        "surrendered": [{"number": "RD-0042", "endorsement": "endorsed"}],
        "transferee": BO, "shares": 200, "effective_at": iso("1995-03-01T12:00"),
    }  # fmt: skip
    d = register.send("record_share_transfer", "company", "1995-03-02T09:00", transfer)
    found = event(d, "disqualifying_disposition_reported")
    assert (found["exercise"], found["holder"], found["shares"]) == ("ex-1", holder, 200)
    assert found["notify"] == "Chief Financial Officer" and found["disposed_on"] == "1995-03-01"
