"""When a notice takes effect: FMP §16(b) and the delivery rules of the RD agreements."""

from __future__ import annotations

from datetime import datetime

import pytest
from test_rofr_harness import at

from services.terms_catalog import TermsCatalog
from workflows.kernel import Party, Refused
from workflows.notices import effective_time
from workflows.terms import parse_terms

CATALOG = TermsCatalog()
FMP = CATALOG.get("fmp-1998-nso")
RD = CATALOG.get("raydream-1992-iso")


def test_fmp_certified_mail_is_effective_72_hours_after_deposit() -> None:
    eff = effective_time(
        "exercise_notice", "certified_mail", FMP, deposited_at=at("2026-03-02T09:00")
    )
    assert eff.at == at("2026-03-05T09:00")
    assert eff.clause == "FMP §16(b)(1)"


def test_72_hours_are_hours_even_across_the_change_to_daylight_time() -> None:
    # 2026-03-08 is the first day of PDT: 72 hours after Fri 09:00 PST is Mon 10:00 PDT
    eff = effective_time(
        "transfer_notice", "certified_mail", FMP, deposited_at=at("2026-03-06T09:00")
    )
    assert eff.at == at("2026-03-09T10:00")
    assert "2026-03-06 09:00 PST + 72 hours → 2026-03-09 10:00 PDT" in eff.derivation


def test_fmp_other_means_are_effective_when_delivered() -> None:
    for method in ("personal", "courier", "fax", "registered_mail", "first_class_mail"):
        eff = effective_time("transfer_notice", method, FMP, delivered_at=at("2026-03-02T16:30"))
        assert eff.at == at("2026-03-02T16:30") and eff.clause == "FMP §16(b)(2)"


def test_fmp_mail_that_is_not_certified_counts_only_once_delivered() -> None:
    # FMP §16(b)(1)'s 72 hours after deposit is for first-class certified mail, return receipt
    # requested; other mail is "any other means" under §16(b)(2): effective when delivered.
    with pytest.raises(Refused) as e:
        effective_time(
            "transfer_notice", "registered_mail", FMP, deposited_at=at("2026-03-02T09:00")
        )
    assert e.value.rule == "FMP §16(b)(2)" and "when delivered" in e.value.reason


def test_rd_mail_is_effective_on_delivery_not_deposit() -> None:
    eff = effective_time(
        "transfer_notice", "registered_mail", RD, delivered_at=at("2026-03-04T11:00")
    )
    assert eff.at == at("2026-03-04T11:00")
    assert eff.clause.startswith("RD ISO ¶11(b), ¶11(d)")
    with pytest.raises(Refused, match="delivered_at"):
        effective_time("transfer_notice", "certified_mail", RD, deposited_at=at("2026-03-02T09:00"))


def test_a_method_the_terms_do_not_allow_is_refused() -> None:
    # RD ISO ¶4(b) names the methods for exercising the option, not for the ¶11 notices: any
    # written notice is given once delivered (¶11(b)-(d)).
    eff = effective_time("transfer_notice", "fax", RD, delivered_at=at("2026-03-02T09:00"))
    assert eff.at == at("2026-03-02T09:00")
    with pytest.raises(Refused) as e:
        effective_time("exercise_notice", "email", FMP, delivered_at=at("2026-03-02T09:00"))
    assert e.value.rule == "FMP §16(b)"


def test_mail_needs_its_deposit_time_and_times_need_their_zone() -> None:
    with pytest.raises(Refused, match="deposited_at"):
        effective_time(
            "exercise_notice", "certified_mail", FMP, delivered_at=at("2026-03-02T09:00")
        )
    with pytest.raises(Refused, match="zone"):
        effective_time("exercise_notice", "personal", FMP, delivered_at=datetime(2026, 3, 2, 9))


def test_a_notice_kind_can_be_limited_to_fewer_methods() -> None:
    raw = CATALOG.raw("fmp-1998-nso")
    raw["notices"]["methods_by_kind"] = {
        "exercise_notice": {"value": ["certified_mail"], "clause": "ACME §9"}
    }
    terms = parse_terms(raw)
    with pytest.raises(Refused) as e:
        effective_time("exercise_notice", "personal", terms, delivered_at=at("2026-03-02T09:00"))
    assert e.value.rule == "ACME §9"
    assert effective_time("transfer_notice", "personal", terms, delivered_at=at("2026-03-02T09:00"))


def test_the_notice_record_carries_who_how_and_when() -> None:
    eff = effective_time(
        "exercise_notice", "certified_mail", FMP, deposited_at=at("2026-03-02T09:00")
    )
    rec = eff.record(Party.COMPANY, Party.OWNER)
    assert rec["kind"] == "exercise_notice"
    assert (rec["from_party"], rec["to_party"], rec["method"]) == (
        "company",
        "owner",
        "certified_mail",
    )
    assert rec["effective_at"] == at("2026-03-05T09:00").isoformat()
    assert rec["clause"] == "FMP §16(b)(1)"
    assert rec["deposited_at"] == at("2026-03-02T09:00").isoformat()
