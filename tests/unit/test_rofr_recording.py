"""The ROFR records its completed transfers and closings in the share register, and holds there
as void what it holds void (FMP §6(i), RD ISO ¶11(f)): the commands its decisions send."""

from __future__ import annotations

from typing import Any

from test_rofr_effective_time import EXERCISE_0330, fmp_sold, sale
from test_rofr_findings_compliance import GIFT, consented_gift
from test_rofr_harness import FMP_COMPLIANCE, Flow, delivered, fmp_notice, iso

from workflows.kernel import Send


def sent(flow: Flow) -> list[Send]:
    assert flow.last is not None
    return [s for s in flow.last.send if isinstance(s, Send)]


def act_of(flow: Flow, command: str) -> str:
    return next(a["id"] for a in flow.data["timeline"]["acts"] if a["command"] == command)


def test_a_sale_to_a_third_party_is_recorded_in_the_company_register() -> None:
    flow = Flow("fmp-1998-nso")
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00",
              fmp_notice(certificates=["101"]))  # fmt: skip
    flow.fire("election_deadline")
    buyer = {"name": "Bob Buyer", "address": "9 Elm St, Fresno CA", "holder_id": "bob"}
    flow.send("report_third_party_sale", "owner", "2026-04-05T12:00",
              sale(1000, "2026-04-05T10:00", buyer=buyer))  # fmt: skip
    [record] = sent(flow)
    assert (record.workflow_type, record.command, record.company_one) == (
        "share_register", "record_rofr_transfer", True,
    )  # fmt: skip
    p: dict[str, Any] = dict(record.payload)
    assert p["act"] == act_of(flow, "report_third_party_sale") and p["holder"] == "alice"
    assert p["transferee"] == {"id": "bob", "name": "Bob Buyer", "address": "9 Elm St, Fresno CA"}
    assert (p["shares"], p["certificates"], p["free_and_clear"]) == (1000, ["101"], True)
    assert p["effective_at"] == flow.data["sale"]["sold_at"] and p["clause"] == "FMP §6(d)(iv)"


def test_a_sale_voided_by_a_timely_exercise_is_held_void_in_the_register() -> None:
    flow = fmp_sold(1000)
    sale_act = act_of(flow, "report_third_party_sale")
    flow.send("exercise_rofr", "company", "2026-04-06T09:00", EXERCISE_0330)
    [void] = sent(flow)
    assert (void.command, void.company_one) == ("void_rofr_transfer", True)
    assert void.payload["act"] == sale_act and void.payload["clause"] == "FMP §6(i)"


def test_the_companys_purchase_at_closing_is_recorded_as_a_repurchase() -> None:
    flow = Flow("fmp-1998-nso")
    flow.send("deliver_disposition_notice", "owner", "2026-03-02T10:00", fmp_notice())
    flow.send("exercise_rofr", "company", "2026-03-10T12:00",
              {"notice": delivered("2026-03-10T09:00")})  # fmt: skip
    flow.send("complete_closing", "company", "2026-03-20T12:00",
              {"closed_at": "2026-03-20T10:00:00-07:00", "amount_paid": "2500"})  # fmt: skip
    [record] = sent(flow)
    assert record.command == "record_rofr_repurchase" and record.payload["shares"] == 1000
    assert record.payload["effective_at"] == "2026-03-20T10:00:00-07:00"
    assert record.payload["holder"] == "alice" and record.payload["clause"] == "FMP §6(d)(iii)"


DONE = {"transferred_at": iso("2026-03-10T10:00"), "compliance": FMP_COMPLIANCE}


def test_an_exempt_gift_is_recorded_to_the_transferee_with_its_address() -> None:
    flow = consented_gift()
    flow.send("complete_exempt_transfer", "owner", "2026-03-10T12:00", DONE)
    [record] = sent(flow)
    assert record.command == "record_rofr_transfer" and record.payload["shares"] == 100
    assert record.payload["transferee"] == {"id": "Alice's daughter", "name": "Alice's daughter"}
    assert (record.payload["endorsement"], record.payload["clause"]) == (
        "endorsed", "FMP §6(b)(i)(1), §6(b)(ii)",
    )  # fmt: skip


def test_a_pledge_to_the_company_moves_no_shares_of_record() -> None:
    flow = Flow("fmp-1998-nso")
    pledge = {**GIFT, "category": "pledge_to_company", "purchase_money_debt": True,
              "transferee": {"name": "the Company"}}  # fmt: skip
    flow.send("propose_exempt_transfer", "owner", "2026-03-02T10:00", pledge)
    flow.send("consent_to_transfer", "company", "2026-03-05T12:00",
              {"consented_at": iso("2026-03-05T10:00")})  # fmt: skip
    flow.send("complete_exempt_transfer", "owner", "2026-03-10T12:00", DONE)
    assert flow.state == "exempt_transfer_completed" and sent(flow) == []
