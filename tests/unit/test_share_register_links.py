"""What other workflows record in the share register: an exercise's certificate with its
disqualifying-disposition watch (RD ISO ¶14), a ROFR's transfers and purchases recorded once,
and a transfer the ROFR holds void never shown as valid (FMP §6(i), RD ISO ¶11(f))."""

from __future__ import annotations

from typing import Any

from kind_flow import KindFlow, at, event, iso, types
from test_share_register import ALEX, BO, LEGEND, SIGNED, opened

from workflows.shares.register import holders_of_record, holding

RD_ISO = "raydream-1992-iso"
EXERCISE = "5b0c4b2e-0000-4000-8000-000000000001"
ROFR = "5b0c4b2e-0000-4000-8000-000000000002"
WATCH = {
    "ends_on": "2027-03-02",
    "notify": "Chief Financial Officer",
    "clause": "RD ISO ¶14",
    "exercised_on": "2026-03-02",
    "granted_on": "2025-01-15",
    "derivation": "RD ISO ¶14: the later of exercise 2026-03-02 + 1 year(s) = 2027-03-02 and "
    "grant 2025-01-15 + 2 years = 2027-01-15 → 2027-03-02",
}


def by(flow: KindFlow, name: str, now: str, payload: dict[str, Any], source: str = ROFR) -> Any:
    kind = "option_exercise" if source == EXERCISE else "rofr"
    return flow.send(name, "system", now, payload, actor=kind, reference=source)


def refused_by(flow: KindFlow, name: str, now: str, payload: dict[str, Any]) -> Any:
    return flow.refused(name, "system", now, payload, actor="rofr", reference=ROFR)


def exercised(terms: str = RD_ISO, shares: int = 1_000) -> KindFlow:
    flow = opened(terms, SIGNED if terms.startswith("fmp") else [])
    issuance = {
        "act": "issue-1",
        "number": "101",
        "holder": ALEX,
        "shares": shares,
        "issued_at": iso("2026-03-02T10:30"),
        "legends": [LEGEND],
        "watch": WATCH,
    }
    by(flow, "record_exercise_issuance", "2026-03-02T11:00", issuance, EXERCISE)
    return flow


def manual_transfer(shares: int, when: str) -> dict[str, Any]:
    return {
        "surrendered": [{"number": "101", "endorsement": "endorsed", "endorsed_by": "Alex"}],
        "transferee": BO,
        "shares": shares,
        "effective_at": iso(when),
    }


def sale(
    act: str = "sale-1", shares: int = 400, when: str = "2026-05-04T12:00", **more: Any
) -> dict[str, Any]:
    return {
        "act": act,
        "holder": "alex",
        "transferee": BO,
        "shares": shares,
        "effective_at": iso(when),
        "clause": "FMP §6(d)(iv)",
    } | more


def test_an_exercise_records_its_certificate_once_with_its_watch() -> None:
    flow = exercised()
    cert = flow.data["certificates"]["101"]
    assert cert["watch"]["exercise"] == EXERCISE and cert["watch"]["ends_on"] == "2027-03-02"
    assert flow.data["sources"] == {f"option_exercise:{EXERCISE}:issue-1": "certificate 101"}
    again = flow.refused(
        "record_exercise_issuance", "system", "2026-03-03T09:00",
        {"act": "issue-1", "number": "102", "holder": ALEX, "shares": 5,
         "issued_at": iso("2026-03-02T10:30")},
        actor="option_exercise", reference=EXERCISE,
    )  # fmt: skip
    assert again.code == "already_recorded"


def test_no_party_outside_sends_what_only_other_workflows_send() -> None:
    flow = opened(RD_ISO, [])
    r = flow.refused("record_rofr_transfer", "company", "2026-05-04T12:00", sale())
    assert r.code == "not_authorised"


def test_a_transfer_within_the_watch_reports_a_disqualifying_disposition_to_the_cfo() -> None:
    flow = exercised()
    d = flow.send("record_share_transfer", "company", "2026-05-04T13:00",
                  manual_transfer(400, "2026-05-04T12:00"))  # fmt: skip
    found = event(d, "disqualifying_disposition_reported")
    assert (found["exercise"], found["shares"], found["certificate"]) == (EXERCISE, 400, "101")
    assert found["notify"] == "Chief Financial Officer" and found["clause"] == "RD ISO ¶14"
    assert found["notice"]["effective_at"] == iso("2026-05-04T12:00")
    assert types(d).count("disqualifying_disposition_reported") == 1
    # The balance keeps the watch: a later transfer of it within the watch is reported too.
    balance = next(c for c in flow.data["certificates"].values() if c["holder"] == "alex"
                   and not c.get("cancelled"))  # fmt: skip
    assert balance["shares"] == 600 and balance["watch"]["exercise"] == EXERCISE
    bo_cert = next(c for c in flow.data["certificates"].values() if c["holder"] == "bo")
    assert "watch" not in bo_cert  # the transferee's own dispositions are not the optionee's


def test_a_transfer_after_the_watch_ended_reports_nothing() -> None:
    flow = exercised()
    d = flow.send("record_share_transfer", "company", "2027-03-03T13:00",
                  manual_transfer(400, "2027-03-03T12:00"))  # fmt: skip
    assert "disqualifying_disposition_reported" not in types(d)


def test_a_rofr_sale_is_recorded_once_on_the_holders_certificates_free_and_clear() -> None:
    flow = exercised("fmp-1998-nso")
    d = by(flow, "record_rofr_transfer", "2026-05-05T09:00", sale(free_and_clear=True))
    record = event(d, "share_transfer_recorded")["transfer"]
    assert record["surrendered"] == ["101"] and record["source"] == f"rofr:{ROFR}:sale-1"
    assert record["released_legends"] == ["first_refusal_and_repurchase"]
    assert holding(flow.data, "bo").shares == {"common": 400}
    assert refused_by(flow, "record_rofr_transfer", "2026-05-06T09:00", sale()).code == (
        "already_recorded"
    )


def test_a_company_purchase_at_closing_cancels_the_certificate_and_reissues_the_balance() -> None:
    flow = exercised()
    purchase = {"act": "close-1", "holder": "alex", "shares": 250,
                "effective_at": iso("2026-06-01T12:00"), "clause": "RD ISO ¶11(d)"}  # fmt: skip
    d = by(flow, "record_rofr_repurchase", "2026-06-02T09:00", purchase)
    assert flow.data["certificates"]["101"]["cancelled"]["reason"] == "purchased_by_company"
    assert holding(flow.data, "alex").shares == {"common": 750}
    assert event(d, "disqualifying_disposition_reported")["to"] == "company"


def test_a_void_transfer_recorded_before_is_reversed_as_of_its_effective_time() -> None:
    flow = exercised()
    by(flow, "record_rofr_transfer", "2026-05-05T09:00", sale())
    assert holders_of_record(flow.data) == 2
    void = {"act": "sale-1", "clause": "RD ISO ¶11(f)", "reason": "the company exercised first"}
    d = by(flow, "void_rofr_transfer", "2026-05-20T09:00", void)
    assert types(d)[:1] == ["share_certificate_cancelled"]
    assert "share_transfer_voided" in types(d)
    assert event(d, "disqualifying_disposition_withdrawn")["clause"] == "RD ISO ¶11(f)"
    assert holders_of_record(flow.data) == 1
    # At every instant, the void transfer never happened: Bo never held, Alex always did.
    assert holders_of_record(flow.data, at("2026-05-10T00:00")) == 1
    assert holding(flow.data, "alex", at("2026-05-10T00:00")).shares == {"common": 1_000}
    assert holding(flow.data, "bo").shares == {}


def test_a_void_transfer_arriving_before_its_record_is_blocked() -> None:
    flow = exercised()
    void = {"act": "sale-1", "clause": "RD ISO ¶11(f)", "reason": "the company exercised first"}
    assert "share_transfer_blocked" in types(
        by(flow, "void_rofr_transfer", "2026-05-04T13:00", void)
    )
    r = refused_by(flow, "record_rofr_transfer", "2026-05-05T09:00", sale())
    assert (r.code, r.rule) == ("void_transfer", "RD ISO ¶11(f)")
    assert holding(flow.data, "alex").shares == {"common": 1_000}
