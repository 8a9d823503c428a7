"""The share register walked through the bylaws (BYL Art. V §9, Art. VI §1, Art. VIII): each
refusal a 409 naming its clause, nothing changed on a refusal, the holders of record counted."""

from __future__ import annotations

import json
from typing import Any

import pytest
from kind_flow import KindFlow, at, event, iso, types

from workflows.kernel import refusal_status
from workflows.shares.register import certificates_of, facts_of, holders_of_record, holding

FMP, RD_ISO, RD_NSO = "fmp-1998-nso", "raydream-1992-iso", "raydream-1992-nso"
SIGNED = [{"title": "president", "name": "P. Ames"}, {"title": "secretary", "name": "S. Byrd"}]
LEGEND = {"key": "first_refusal_and_repurchase", "clause": "FMP §6(f)", "text": "THE SHARES ..."}
ALEX = {"id": "alex", "name": "Alex Rivera", "address": "1 Main St, Valencia CA"}
BO = {"id": "bo", "name": "Bo Buyer", "address": "9 Elm St, Fresno CA"}


def opened(terms: str = FMP, signatures: Any = SIGNED) -> KindFlow:
    flow = KindFlow("share_register", terms)
    flow.send(
        "open_share_register",
        "company",
        "2026-01-05T09:00",
        {
            "opened_at": iso("2026-01-05T09:00"),
            "kept_at": "25876 The Old Road, Valencia CA",
            "first_number": 101,
            "signatures": signatures,
        },
    )
    return flow


def issued(flow: KindFlow, holder: Any = ALEX, shares: int = 1_000, **more: Any) -> KindFlow:
    body = {
        "holder": holder,
        "shares": shares,
        "issued_at": iso("2026-03-02T10:30"),
        "legends": [LEGEND],
    } | more
    flow.send("issue_share_certificate", "company", "2026-03-02T11:00", body)
    return flow


def transfer(shares: int = 400, surrendered: Any = None, **more: Any) -> dict[str, Any]:
    given = [{"number": "101", "endorsement": "endorsed", "endorsed_by": "Alex Rivera"}]
    return {
        "surrendered": given if surrendered is None else surrendered,
        "transferee": BO,
        "shares": shares,
        "effective_at": iso("2026-05-04T12:00"),
    } | more


def conflict(r: Any, clause: str) -> None:
    assert refusal_status(r.code) == 409, (r.code, r.reason)
    assert r.rule == clause, r.rule


def test_a_certificate_is_issued_with_its_number_date_holder_address_and_legends() -> None:
    flow = issued(opened())
    cert = event(flow.last, "share_certificate_issued")["certificate"]
    assert (cert["number"], cert["shares"], cert["share_class"]) == ("101", 1_000, "common")
    assert (
        cert["issued_at"] == iso("2026-03-02T10:30") and cert["legends"][0]["clause"] == "FMP §6(f)"
    )
    assert flow.data["holders"]["alex"]["address"] == "1 Main St, Valencia CA"
    assert event(flow.last, "holders_of_record_changed") == {
        "before": 0,
        "after": 1,
        "clause": "BYL Art. V §9, Art. VI §1",
    }
    assert [c.number for c in certificates_of(flow.data, "alex")] == ["101"]


def test_a_new_holder_needs_a_name_and_address() -> None:
    r = opened().refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {"holder": {"id": "alex"}, "shares": 10, "issued_at": iso("2026-03-02T10:30")},
    )
    assert r.rule == "BYL Art. V §9, Art. VI §1" and "name and address" in r.reason


def test_a_certificate_is_signed_by_an_officer_of_each_group() -> None:
    flow = opened(signatures=[])
    r = flow.refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {
            "holder": ALEX,
            "shares": 10,
            "issued_at": iso("2026-03-02T10:30"),
            "signatures": [
                {"title": "president", "name": "P"},
                {"title": "vice_president", "name": "V"},
            ],
        },
    )
    conflict(r, "BYL Art. VIII §1")
    assert "secretary" in r.reason and r.code == "unsigned"


def test_a_number_is_used_once_and_a_source_recorded_once() -> None:
    flow = issued(opened(), source={"workflow_type": "option_exercise", "workflow_id": "E-1"})
    r = flow.refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {"number": "101", "holder": ALEX, "shares": 5, "issued_at": iso("2026-03-02T10:30")},
    )
    assert r.code == "duplicate_number"
    r = flow.refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {
            "holder": ALEX,
            "shares": 5,
            "issued_at": iso("2026-03-02T10:30"),
            "source": {"workflow_type": "option_exercise", "workflow_id": "E-1"},
        },
    )
    assert r.code == "already_recorded" and "certificate 101" in r.reason


def test_a_partly_paid_certificate_states_its_consideration_only_where_the_bylaws_allow() -> None:
    paid = {"consideration": "500", "paid": "100", "resolution": "BR-7"}
    flow = issued(opened(), partly_paid=paid)
    assert flow.data["certificates"]["101"]["partly_paid"]["clause"] == "BYL Art. VIII §1"
    r = opened(RD_ISO, signatures=[]).refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {"holder": ALEX, "shares": 5, "issued_at": iso("2026-03-02T10:30"), "partly_paid": paid},
    )
    assert r.rule.startswith("RD ISO ¶10") and r.code == "not_fully_paid"


def test_a_transfer_on_surrender_cancels_the_old_and_issues_new_and_balance() -> None:
    flow = issued(opened())
    flow.send("record_share_transfer", "company", "2026-05-04T15:00", transfer())
    assert types(flow.last) == [
        "share_certificate_issued",
        "share_certificate_cancelled",
        "share_certificate_issued",
        "share_transfer_recorded",
        "holders_of_record_changed",
    ]
    old = flow.data["certificates"]["101"]["cancelled"]
    assert (old["at"], old["reason"], old["replaced_by"]) == (
        iso("2026-05-04T12:00"),
        "transfer",
        ["102", "103"],
    )
    assert old["endorsement"] == "endorsed"
    bo, alex = holding(flow.data, "bo"), holding(flow.data, "alex")
    assert bo is not None and alex is not None
    assert (bo.shares, [c.number for c in bo.certificates]) == ({"common": 400}, ["102"])
    assert (alex.shares, [c.number for c in alex.certificates]) == ({"common": 600}, ["103"])
    assert bo.certificates[0].legends == ["first_refusal_and_repurchase"]  # carried forward
    assert holders_of_record(flow.data) == 2
    record = event(flow.last, "share_transfer_recorded")
    assert record["clause"] == "BYL Art. VIII §2" and record["transfer"]["surrendered"] == ["101"]


def test_a_transfer_without_surrender_is_refused_naming_art_viii_2() -> None:
    flow = issued(opened())
    r = flow.refused(
        "record_share_transfer", "company", "2026-05-04T15:00", transfer(surrendered=[])
    )
    conflict(r, "BYL Art. VIII §2")
    assert r.code == "surrender_required" and "only on surrender" in r.reason


@pytest.mark.parametrize(
    ("surrendered", "code"),
    [
        ([{"number": "999", "endorsement": "endorsed"}], "unknown_certificate"),
        (
            [{"number": "101", "endorsement": "assignment_separate_from_certificate"}],
            "not_endorsed",
        ),
    ],
)
def test_a_surrender_must_be_of_a_known_certificate_duly_endorsed(
    surrendered: Any, code: str
) -> None:
    r = issued(opened()).refused(
        "record_share_transfer", "company", "2026-05-04T15:00", transfer(surrendered=surrendered)
    )
    conflict(r, "BYL Art. VIII §2")
    assert r.code == code


def test_a_cancelled_certificate_cannot_be_surrendered_again() -> None:
    flow = issued(opened())
    flow.send("record_share_transfer", "company", "2026-05-04T15:00", transfer())
    r = flow.refused(
        "record_share_transfer",
        "company",
        "2026-05-05T15:00",
        transfer(effective_at=iso("2026-05-05T12:00")),
    )
    assert r.code == "cancelled_certificate" and "cancelled 2026-05-04" in r.reason


def test_more_shares_than_surrendered_are_refused() -> None:
    r = issued(opened()).refused(
        "record_share_transfer", "company", "2026-05-04T15:00", transfer(shares=1_001)
    )
    assert r.code == "insufficient_shares" and "1,000 shares" in r.reason


def test_fmp_free_and_clear_sale_may_release_its_legend_rd_never() -> None:
    flow = issued(opened())
    flow.send(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(shares=1_000, release_legends=["first_refusal_and_repurchase"]),
    )
    bo = holding(flow.data, "bo")
    assert bo is not None and bo.certificates[0].legends == []
    assert holders_of_record(flow.data) == 1  # Alex holds nothing now
    rd_legend = {"key": "california_commissioner", "clause": "RD ISO ¶15", "text": "IT IS ..."}
    rd = issued(opened(RD_ISO, signatures=[]), legends=[rd_legend])
    r = rd.refused(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(release_legends=["california_commissioner"]),
    )
    assert r.code == "legend_required" and r.rule.startswith("RD ISO ¶11(f)")


def test_the_company_taking_shares_cancels_the_certificate_and_reissues_the_balance() -> None:
    flow = issued(opened())
    flow.send(
        "cancel_share_certificate",
        "company",
        "2026-05-04T15:00",
        {
            "number": "101",
            "endorsement": "endorsed",
            "shares": 250,
            "reason": "purchased_by_company",
            "cancelled_at": iso("2026-05-04T12:00"),
        },
    )
    assert holding(flow.data, "alex").shares == {"common": 750}  # type: ignore[union-attr]
    r = flow.refused(
        "cancel_share_certificate",
        "company",
        "2026-05-04T15:00",
        {"number": "102", "reason": "repurchased", "cancelled_at": iso("2026-05-04T12:00")},
    )
    conflict(r, "BYL Art. VIII §2")  # not surrendered endorsed


def test_the_holder_count_follows_transfers_as_of_when_they_took_effect() -> None:
    flow = opened()
    for i, who in enumerate(["a", "b", "c"]):
        issued(flow, {"id": who, "name": who.upper(), "address": f"{i} Road"}, shares=100)
    assert holders_of_record(flow.data) == 3
    # c sells all to a: one holder fewer; b sells half to d: one more
    flow.send(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        {
            "surrendered": [{"number": "103", "endorsement": "endorsed"}],
            "transferee": {"id": "a"},
            "shares": 100,
            "effective_at": iso("2026-05-04T12:00"),
        },
    )
    assert event(flow.last, "holders_of_record_changed")["after"] == 2
    flow.send(
        "record_share_transfer",
        "company",
        "2026-06-01T15:00",
        {
            "surrendered": [{"number": "102", "endorsement": "evidence_of_succession"}],
            "transferee": {"id": "d", "name": "D", "address": "4 Road"},
            "shares": 50,
            "effective_at": iso("2026-06-01T12:00"),
        },
    )
    assert holders_of_record(flow.data) == 3
    assert holders_of_record(flow.data, at("2026-05-10T00:00")) == 2
    assert holders_of_record(flow.data, at("2026-03-01T00:00")) == 0
    facts = facts_of(flow.data, at("2026-07-01T00:00"))
    assert (facts.holders_of_record, facts.shares_outstanding) == (3, {"common": 300})


def test_a_lost_certificate_is_replaced_only_with_the_bond_the_officer_required() -> None:
    flow = issued(opened())
    flow.send(
        "claim_lost_certificate",
        "owner",
        "2026-04-01T10:00",
        {
            "number": "101",
            "how": "lost",
            "claimed_at": iso("2026-04-01T09:00"),
            "affidavit": "affidavit of loss, notarized 2026-03-31",
        },
    )
    replace = {"number": "101", "replaced_at": iso("2026-04-10T09:00")}
    r = flow.refused("replace_lost_certificate", "company", "2026-04-10T10:00", replace)
    conflict(r, "BYL Art. VIII §3")
    assert "require_replacement_terms first" in r.reason
    r = flow.refused(
        "require_replacement_terms",
        "company",
        "2026-04-02T10:00",
        {
            "number": "101",
            "required_by": {"title": "assistant_secretary", "name": "A"},
            "security": "bond",
            "amount": "2000",
            "required_at": iso("2026-04-02T09:00"),
        },
    )
    assert r.code == "not_authorised" and r.rule == "BYL Art. VIII §3"
    flow.send(
        "require_replacement_terms",
        "company",
        "2026-04-02T10:00",
        {
            "number": "101",
            "required_by": {"title": "chief_financial_officer", "name": "C. Dunn"},
            "security": "bond",
            "amount": "2000",
            "required_at": iso("2026-04-02T09:00"),
        },
    )
    r = flow.refused("replace_lost_certificate", "company", "2026-04-10T10:00", replace)
    conflict(r, "BYL Art. VIII §3")
    assert r.code == "security_required" and "bond of 2000" in r.reason
    low = {"kind": "bond", "amount": "1500", "reference": "bond 77, Surety Co."}
    r = flow.refused(
        "replace_lost_certificate", "company", "2026-04-10T10:00", replace | {"security": low}
    )
    assert r.code == "security_required"
    bond = low | {"amount": "2000"}
    flow.send(
        "replace_lost_certificate", "company", "2026-04-10T10:00", replace | {"security": bond}
    )
    assert types(flow.last) == [
        "share_certificate_cancelled",
        "share_certificate_issued",
        "lost_certificate_replaced",
    ]
    assert flow.data["certificates"]["101"]["cancelled"]["reason"] == "replaced_as_lost"
    new = flow.data["certificates"]["102"]
    assert (new["holder"], new["shares"], new["legends"]) == ("alex", 1_000, [LEGEND])
    assert holders_of_record(flow.data) == 1


def test_without_a_bond_required_the_replacement_needs_none() -> None:
    flow = issued(opened())
    flow.send(
        "claim_lost_certificate",
        "company",
        "2026-04-01T10:00",
        {"number": "101", "how": "destroyed", "claimed_at": iso("2026-04-01T09:00")},
    )
    flow.send(
        "require_replacement_terms",
        "company",
        "2026-04-02T10:00",
        {
            "number": "101",
            "required_by": {"title": "secretary", "name": "S. Byrd"},
            "security": "none",
            "required_at": iso("2026-04-02T09:00"),
        },
    )
    flow.send(
        "replace_lost_certificate",
        "company",
        "2026-04-03T10:00",
        {"number": "101", "replaced_at": iso("2026-04-03T09:00")},
    )
    assert flow.data["certificates"]["101"]["cancelled"]["reason"] == "replaced_as_destroyed"


def test_a_certificate_claimed_lost_is_not_transferred() -> None:
    flow = issued(opened())
    flow.send(
        "claim_lost_certificate",
        "owner",
        "2026-04-01T10:00",
        {"number": "101", "how": "stolen", "claimed_at": iso("2026-04-01T09:00")},
    )
    r = flow.refused("record_share_transfer", "company", "2026-05-04T15:00", transfer())
    assert r.code == "claimed_lost"


@pytest.mark.parametrize("terms", [RD_ISO, RD_NSO])
def test_rd_documents_provide_no_lost_certificate_replacement(terms: str) -> None:
    flow = issued(opened(terms, signatures=[]))
    r = flow.refused(
        "claim_lost_certificate",
        "owner",
        "2026-04-01T10:00",
        {"number": "101", "how": "lost", "claimed_at": iso("2026-04-01T09:00")},
    )
    assert r.code == "not_provided" and refusal_status(r.code) == 409
    assert r.rule.startswith({RD_ISO: "RD ISO ¶4(e)", RD_NSO: "RD NSO ¶4(e)"}[terms])


def test_an_address_change_keeps_the_former_address() -> None:
    flow = issued(opened())
    flow.send(
        "change_holder_address",
        "owner",
        "2026-04-01T10:00",
        {
            "holder": "alex",
            "address": "2 Oak St, Valencia CA",
            "changed_at": iso("2026-04-01T09:00"),
        },
    )
    alex = flow.data["holders"]["alex"]
    assert alex["address"] == "2 Oak St, Valencia CA"
    assert alex["former_addresses"][0]["address"] == "1 Main St, Valencia CA"


def test_acts_are_judged_by_when_they_took_effect() -> None:
    flow = issued(opened())
    r = flow.refused(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(effective_at=iso("2026-05-05T12:00")),
    )
    assert r.code == "invalid_payload" and "in the future" in r.reason
    r = flow.refused(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(effective_at=iso("2026-03-01T12:00")),
    )
    assert "after the act" in r.reason


def test_a_malformed_command_is_a_422_naming_the_field() -> None:
    r = issued(opened()).refused(
        "record_share_transfer", "company", "2026-05-04T15:00", transfer(surrender=[])
    )
    assert refusal_status(r.code) == 422 and "payload.surrender is not a field" in r.reason
    assert "did you mean 'surrendered'?" in r.reason


def test_the_owner_may_not_record_a_transfer() -> None:
    r = issued(opened()).refused("record_share_transfer", "owner", "2026-05-04T15:00", transfer())
    conflict(r, "BYL Art. VIII §2")
    assert r.code == "not_authorised"


def test_nothing_is_recorded_before_the_register_is_opened() -> None:
    flow = KindFlow("share_register", FMP)
    r = flow.refused(
        "issue_share_certificate",
        "company",
        "2026-03-02T11:00",
        {"holder": ALEX, "shares": 5, "issued_at": iso("2026-03-02T10:30")},
    )
    assert r.code == "wrong_state"


def test_the_rd_presets_differ_only_in_citations_and_the_commissioners_paragraph() -> None:
    from kind_flow import CATALOG

    iso, nso = (CATALOG.raw(t)["share_register"] for t in (RD_ISO, RD_NSO))
    text = json.dumps(nso, sort_keys=True, ensure_ascii=False).replace("RD NSO", "RD ISO")
    assert text.replace("¶14 (Rule 260.141.11(c)", "¶15 (Rule 260.141.11(c)") == json.dumps(
        iso, sort_keys=True, ensure_ascii=False
    )


def test_an_owner_changes_only_their_own_address() -> None:
    flow = issued(opened())
    body = {"holder": "alex", "address": "3 Pine St", "changed_at": iso("2026-04-01T09:00")}
    r = flow.refused("change_holder_address", "owner", "2026-04-01T10:00", body, actor="Bo Buyer")
    assert r.code == "not_authorised"
    flow.send("change_holder_address", "owner", "2026-04-01T10:00", body, actor="Alex Rivera")
    assert flow.data["holders"]["alex"]["address"] == "3 Pine St"


def test_a_certificate_surrendered_twice_or_one_number_for_two_is_refused() -> None:
    twice = [{"number": "101", "endorsement": "endorsed"}] * 2
    r = issued(opened()).refused(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(shares=1_500, surrendered=twice),
    )
    assert r.code == "invalid_payload" and "surrendered once" in r.reason
    r = issued(opened()).refused(
        "record_share_transfer",
        "company",
        "2026-05-04T15:00",
        transfer(number="200", balance_number="200"),
    )
    assert r.code == "duplicate_number"
