"""The post-termination windows as pure functions, with dates from the clauses (FMP §5, RD ISO
¶7): each shows its derivation, is capped by the expiration, and clamps month ends."""

from __future__ import annotations

from datetime import date

from kind_flow import CATALOG

from workflows.calendar import Deadline
from workflows.grants.term import expiry
from workflows.termination import windows as w
from workflows.terms.termination import TerminationTerms

D = date.fromisoformat


def _terms(terms_id: str) -> TerminationTerms:
    section = CATALOG.get(terms_id).termination
    assert section is not None
    return section


FMP, RD = _terms("fmp-1998-nso"), _terms("raydream-1992-iso")
CAL = CATALOG.get("fmp-1998-nso").company_calendar()


def far(day: str = "2036-12-31") -> Deadline:
    return expiry(CAL, D(day), "RD ISO ¶1(h)", "Option Term Date")


def test_fmp_30_days_after_termination_with_its_derivation() -> None:
    d = w.window_end(FMP, CAL, "without_cause", D("2027-01-15"), far())
    assert d.derivation == "FMP §5(a): terminated 2027-01-15 + 30 days → 2027-02-14 23:59 PST"
    assert d.clause == "FMP §5(a)"


def test_fmp_six_months_after_death_or_disability() -> None:
    d = w.window_end(FMP, CAL, "disability", D("2027-03-31"), far())
    assert d.derivation.startswith("FMP §5(b): Special Terminating Event 2027-03-31 + 6 months")
    assert CAL.local_date(d.at) == D("2027-09-30")  # clamped to September's last day


def test_fmp_for_cause_ends_the_option_immediately() -> None:
    d = w.window_end(FMP, CAL, "for_cause", D("2027-01-15"), far())
    assert d.derivation == (
        "FMP §5(c): terminated for cause 2027-01-15: the option terminated immediately → "
        "2027-01-15 00:00 PST"
    )


def test_rd_three_months_from_january_31_ends_april_30() -> None:
    d = w.window_end(RD, CAL, "without_cause", D("2027-01-31"), far())
    assert d.derivation == (
        "RD ISO ¶7(a): employment terminated 2027-01-31 + 3 months → 2027-04-30 23:59 PDT"
    )


def test_rd_twelve_months_for_death_or_disability() -> None:
    d = w.window_end(RD, CAL, "death", D("2028-02-29"), far())
    assert CAL.local_date(d.at) == D("2029-02-28")


def test_a_window_is_capped_by_the_option_term_date() -> None:
    end = far("2027-03-14")
    d = w.window_end(RD, CAL, "without_cause", D("2027-01-31"), end)
    assert d.at == end.at
    assert d.clause == "RD ISO ¶7(a) (in any event no later than the Option Term Date)"
    assert "2027-04-30" in d.derivation and "never after the Option Term Date 2027-03-14" in (
        d.derivation
    )
    assert [p.at for p in d.parts][1] == end.at


def test_rd_death_within_three_months_counts_as_death() -> None:
    assert w.counts_as_death(RD, D("2027-01-31"), D("2027-04-30"))
    assert not w.counts_as_death(RD, D("2027-01-31"), D("2027-05-01"))
    assert not w.counts_as_death(FMP, D("2027-01-31"), D("2027-02-01"))  # no such rule in FMP


def test_rd_7c_prevented_by_law_until_three_months_after_the_notice() -> None:
    normal = w.window_end(RD, CAL, "without_cause", D("2027-01-15"), far())
    pending = w.law_extension(RD, CAL, normal, None, far())
    assert pending.at == far().at and "has not been given" in pending.derivation
    after = w.law_extension(RD, CAL, normal, D("2027-06-10"), far())
    assert CAL.local_date(after.at) == D("2027-09-10")
    assert after.clause == "RD ISO ¶7(c)"
    capped = w.law_extension(RD, CAL, normal, D("2027-06-10"), far("2027-08-01"))
    assert CAL.local_date(capped.at) == D("2027-08-01")


def test_rd_7d_section_16b_earliest_of_three() -> None:
    normal = w.window_end(RD, CAL, "without_cause", D("2027-01-15"), far())  # 2027-04-15

    def ends(exposure_end: str | None, term_date: str = "2036-12-31") -> date:
        on = D(exposure_end) if exposure_end else None
        d = w.section_16b_extension(RD, CAL, normal, D("2027-01-15"), on, far(term_date))
        return CAL.local_date(d.at)

    assert ends("2027-06-20") == D("2027-06-30")  # 10th day after the exposure ends
    assert ends("2027-09-01") == D("2027-07-24")  # the 190th day after termination
    assert ends(None) == D("2027-07-24")
    assert ends("2027-06-20", term_date="2027-05-01") == D("2027-05-01")  # the Option Term Date
    assert ends("2027-02-01") == D("2027-04-15")  # never shorter than the normal window
