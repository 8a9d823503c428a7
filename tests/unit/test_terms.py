"""Terms as data: the shipped presets, a company's own terms file, and the errors they give."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from kind_flow import KindFlow
from pydantic import BaseModel
from test_rofr_harness import fmp_notice

from services.store.canonical import canonical_json
from services.terms_catalog import PRESETS_DIR, TermsCatalog, UnknownTerms
from workflows import registry
from workflows.kernel import Party, refusal_status
from workflows.terms import Cited, TermsError, parse_terms, parse_terms_text

PRESETS = ["fmp-1998-nso", "raydream-1992-iso", "raydream-1992-nso"]


def _cited(node: object) -> list[tuple[object, str]]:
    """Every (value, clause) pair anywhere in a terms model."""
    found: list[tuple[object, str]] = []
    if isinstance(node, Cited):
        found.append((node.value, node.clause))
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            found += _cited(getattr(node, name))
    elif isinstance(node, dict):
        for v in node.values():
            found += _cited(v)
    elif isinstance(node, list):
        for v in node:
            found += _cited(v)
    return found


def test_the_catalog_ships_the_three_presets() -> None:
    assert TermsCatalog().ids() == PRESETS


@pytest.mark.parametrize("terms_id", PRESETS)
def test_every_cited_value_names_a_clause_of_its_own_documents(terms_id: str) -> None:
    terms = TermsCatalog().get(terms_id)
    pairs = _cited(terms)
    assert len(pairs) > 30
    prefixes = tuple(terms.documents)
    assert all(clause.startswith(prefixes) for _, clause in pairs), pairs


def test_fmp_preset_reproduces_the_agreement() -> None:
    t = TermsCatalog().get("fmp-1998-nso").rofr
    assert (t.election_window.days, t.election_window.clause) == (30, "FMP §6(d)(iii)")
    assert t.election_scope.value == "any_or_all"
    assert t.closing.days == 30
    assert (
        t.partial_exercise is not None and t.partial_exercise.on_silence.value == "third_party_sale"
    )
    assert (t.sale_window.days, t.sale_window.runs_from) == (30, "election_deadline")
    assert t.buyer_takes.value == "free_and_clear"
    nc = t.non_cash
    assert nc.method == "appraisal"
    assert nc.agree_value and nc.agree_value.days == 10
    assert nc.joint_appraiser and nc.joint_appraiser.days == 20
    assert (
        nc.closing_business_days_after_exercise
        and nc.closing_business_days_after_exercise.value == 30
    )
    assert nc.closing_days_after_valuation and nc.closing_days_after_valuation.value == 15
    lapse = {e.event: e for e in t.lapse_events}
    assert lapse["holders_of_record_exceeded"].more_than_holders == 500
    assert lapse["firm_commitment_offering"].min_offering_amount == 5_000_000
    assert lapse["public_market_determined"].parties == [Party.BOARD]
    exempt = {e.category for e in t.exempt_transfers}
    assert exempt == {"gift_to_spouse_or_issue", "will_or_intestacy", "pledge_to_company"}
    notices = TermsCatalog().get("fmp-1998-nso").notices.methods
    assert notices["certified_mail"].delay_hours == 72


def test_raydream_preset_reproduces_the_agreement() -> None:
    terms = TermsCatalog().get("raydream-1992-iso")
    t = terms.rofr
    assert (t.election_window.days, t.election_window.clause) == (30, "RD ISO ¶11(d)")
    assert t.election_scope.value == "all_only" and t.partial_exercise is None
    assert (t.sale_window.days, t.sale_window.runs_from) == (120, "notice_effective")
    assert t.buyer_takes.value == "subject_to_rofr" and t.buyer_takes.clause == "RD ISO ¶11(f)"
    assert t.requirements.signatures.value == [Party.OWNER, Party.TRANSFEREE]
    assert t.requirements.one_notice_per_transferee.value is True
    assert t.recording_needs_approval.value is True
    assert t.non_cash.method == "company_discounted_cash_equivalent"
    assert t.escrow is not None and t.escrow.delivery_days_after_payment.value == 30
    assert {e.event for e in t.lapse_events} == {"transfer_of_control", "public_market_exists"}
    assert [e.category for e in t.exempt_transfers] == ["ownership_change"]
    assert all(m.effective == "on_delivery" for m in terms.notices.methods.values())
    assert terms.calendar.time_zone.value == "America/Los_Angeles"


def test_the_iso_and_nso_presets_differ_only_in_name_and_citations() -> None:
    # ... but for the grant, the termination and the exercise, where the two agreements differ
    # in substance (below, and tests/unit/test_exercise_terms.py: the NSO numbers its
    # Commissioner rules ¶14 and legends ¶15, and has no ISO legend).
    catalog = TermsCatalog()
    differing = {"grant", "termination", "option_exercise"}
    raw_iso = {k: v for k, v in catalog.raw("raydream-1992-iso").items() if k not in differing}
    raw_nso = {k: v for k, v in catalog.raw("raydream-1992-nso").items() if k not in differing}
    iso = json.dumps(raw_iso, sort_keys=True, ensure_ascii=False)
    nso = json.dumps(raw_nso, sort_keys=True, ensure_ascii=False)
    nso = nso.replace("RD NSO", "RD ISO").replace("raydream-1992-nso", "raydream-1992-iso")
    nso = nso.replace("Nonqualified Stock Option", "Incentive Stock Option")
    assert nso == iso


def test_the_iso_and_nso_grants_differ_where_the_plan_and_agreements_do() -> None:
    iso, nso = (TermsCatalog().get(f"raydream-1992-{t}") for t in ("iso", "nso"))
    assert iso.grant and nso.grant and iso.termination and nso.termination
    assert (iso.grant.option_types.value, nso.grant.option_types.value) == (["iso"], ["nso"])
    assert iso.grant.eligible["iso"].value == ["employee"]  # RD Plan ¶3
    assert nso.grant.eligible["nso"].value == ["employee", "director", "consultant"]
    assert (iso.grant.price_floor.standard, nso.grant.price_floor.standard) == (
        Decimal("1"),
        Decimal("0.85"),
    )  # RD Plan ¶6(A)(i)-(ii)
    assert iso.grant.vesting.initial_exercise.value == "initial_vesting_date"  # RD ISO ¶1(e)
    assert nso.grant.vesting.initial_exercise.value == "one_year_after_grant"  # RD NSO ¶1(e)
    # RD NSO ¶7(f): a director's or consultant's status ending is a termination of employment
    assert "end_of_service_status" in nso.termination.reasons
    assert "end_of_service_status" not in iso.termination.reasons


@pytest.mark.parametrize("terms_id", PRESETS)
def test_raw_terms_are_json_and_parse_back_to_the_same_terms(terms_id: str) -> None:
    catalog = TermsCatalog()
    raw = json.loads(json.dumps(catalog.raw(terms_id)))
    assert registry.parse_terms(raw) == catalog.get(terms_id)


@pytest.mark.parametrize("terms_id", PRESETS)
def test_the_pinned_text_is_the_canonical_json_of_the_terms_and_raw_reads_it_back(
    terms_id: str,
) -> None:
    catalog = TermsCatalog()
    text = catalog.pinned_json(terms_id)
    assert text == canonical_json(catalog.get(terms_id).model_dump(mode="json"))
    assert json.loads(text) == catalog.raw(terms_id)


def test_raw_terms_are_a_fresh_copy_a_caller_may_change() -> None:
    catalog = TermsCatalog()
    raw = catalog.raw("fmp-1998-nso")
    raw["rofr"]["election_window"]["days"] = 1
    assert catalog.raw("fmp-1998-nso") != raw
    assert json.loads(catalog.pinned_json("fmp-1998-nso")) == catalog.raw("fmp-1998-nso")


def test_unknown_terms_list_the_known_ids() -> None:
    with pytest.raises(UnknownTerms) as e:
        TermsCatalog().get("acme-2020")
    assert "acme-2020" in str(e.value) and "fmp-1998-nso" in str(e.value)


def _company_terms(tmp_path: Path, name: str, change: dict[str, object]) -> Path:
    raw = yaml.safe_load((PRESETS_DIR / "fmp-1998-nso.yaml").read_text())
    raw["id"] = name
    raw["rofr"]["election_window"].update(change)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    return path


def test_a_company_adds_its_own_terms_by_dropping_a_file(tmp_path: Path) -> None:
    _company_terms(tmp_path, "acme-2024", {"days": 45})
    catalog = TermsCatalog([tmp_path])
    assert "acme-2024" in catalog.ids()
    assert catalog.get("acme-2024").rofr.election_window.days == 45


def test_a_bad_terms_file_names_the_file_and_the_field(tmp_path: Path) -> None:
    path = _company_terms(tmp_path, "acme-2024", {"days": -1})
    with pytest.raises(TermsError) as e:
        TermsCatalog([tmp_path])
    assert str(path) in str(e.value)
    assert "rofr.election_window.days" in str(e.value)


def test_a_terms_file_whose_id_is_not_its_name_is_refused(tmp_path: Path) -> None:
    path = _company_terms(tmp_path, "acme-2024", {})
    path.rename(tmp_path / "other.yaml")
    with pytest.raises(TermsError, match="must match the file name"):
        TermsCatalog([tmp_path])


def test_unknown_fields_are_refused() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    raw["rofr"]["election_window"]["weeks"] = 4
    with pytest.raises(TermsError) as e:
        parse_terms(raw)
    assert "rofr.election_window.weeks" in str(e.value)


def test_every_value_needs_its_clause() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    raw["rofr"]["buyer_takes"] = {"value": "free_and_clear"}
    with pytest.raises(TermsError, match=r"rofr\.buyer_takes\.clause"):
        parse_terms(raw)


def test_parties_name_known_commands_and_never_the_system() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    raw["rofr"]["parties"]["buy_everything"] = {"value": ["owner"], "clause": "x"}
    with pytest.raises(TermsError, match=r"rofr\.parties: unknown commands"):
        registry.check_terms(parse_terms(raw))  # the kind's command table is the one list
    raw = TermsCatalog().raw("fmp-1998-nso")
    raw["rofr"]["parties"]["exercise_rofr"]["value"] = ["system"]
    with pytest.raises(TermsError, match="reserved for timers"):
        parse_terms(raw)
    rofr = TermsCatalog().get("fmp-1998-nso").rofr
    assert rofr is not None and set(rofr.parties) <= set(registry.kind("rofr").COMMANDS.names)


def test_a_company_terms_file_naming_an_unknown_command_is_refused_on_load(
    tmp_path: Path,
) -> None:
    raw = yaml.safe_load((PRESETS_DIR / "fmp-1998-nso.yaml").read_text())
    raw["id"] = "acme-2024"
    raw["rofr"]["parties"]["exercise_rofrs"] = {"value": ["company"], "clause": "FMP §6(d)"}
    path = tmp_path / "acme-2024.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True))
    with pytest.raises(TermsError, match="exercise_rofrs") as e:
        TermsCatalog([tmp_path])
    assert str(path) in str(e.value)


def test_a_terms_document_without_a_rofr_section_is_valid_but_starts_no_rofr() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    del raw["rofr"]
    terms = parse_terms(raw)
    assert terms.rofr is None
    registry.check_terms(terms)
    flow = KindFlow("rofr", "fmp-1998-nso")
    flow.terms = terms
    r = flow.refused("deliver_transfer_notice", "owner", "2026-03-02T12:00", fmp_notice())
    assert (r.code, refusal_status(r.code)) == ("not_provided", 409)
    assert "no rofr section" in r.reason


def test_the_calendar_is_configurable() -> None:
    raw = TermsCatalog().raw("fmp-1998-nso")
    raw["calendar"]["holidays"]["value"] = ""
    raw["calendar"]["extra_holidays"] = ["2026-12-24"]
    cal = parse_terms(raw).company_calendar()
    assert cal.holidays == "" and cal.is_business_day(date(2026, 7, 3))
    assert not cal.is_business_day(date(2026, 12, 24))
    raw["calendar"]["time_zone"]["value"] = "Mars/Olympus"
    with pytest.raises(TermsError, match=r"calendar\.time_zone"):
        parse_terms(raw)


def test_bad_yaml_is_a_terms_error() -> None:
    with pytest.raises(TermsError, match=r"company\.yaml"):
        parse_terms_text("id: [unclosed", source="company.yaml")
    with pytest.raises(TermsError, match="mapping"):
        parse_terms_text("- a list", source="company.yaml")
