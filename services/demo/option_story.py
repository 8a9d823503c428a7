"""The demo's option stories, as data: the Board values the Common Stock and grants an option,
it vests, part of it is exercised from notice to issued certificate, the optionee's service ends,
and the rest expires when the post-termination window closes. Dates are the clauses' own: FMP
§3(a) installments, §13(c)(iii) the Tax Date, §5(a) thirty days after employment ends; RD ISO
¶1(h) the tenth anniversary less one day, ¶1(g) the Vested Ratio by full months, ¶14 the
disposition watch, ¶7(a) three months after employment ends (to the month's last day)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.demo.steps import Act, Known, LetPass, Record, Story, Vests, pt
from services.store.registers import Plan, Valuation

OPTIONEE = "Alex Rivera"
NOTICE_AT = pt("2026-03-02T10:00")
RD_NOTICE_AT = pt("1997-02-03T10:00")
FMP_CLEARED = (
    "compliance_confirmed_by_company_and_counsel",
    "counsel's letter of 2026-02-20: the exercise complies with the securities laws",
)


def exercise_notice(
    known: Known,
    at: datetime,
    shares: int,
    check: str,
    cleared: tuple[str, str],
    representations: tuple[str, ...] = (),
) -> Mapping[str, Any]:
    """The notice of exercise, delivered in person at ``at`` with a check for the price; the
    securities laws ``cleared`` on a basis the terms accept (FMP §3(b), RD ISO ¶4(f)).

    It names its grant, whose facts the exercise reads through the register view, and carries
    the circumstances the Company states: the FMV determination in force on the day (from the
    valuation register) and the securities-law clearance.
    """
    grant = known.grant
    assert grant is not None, "the option story grants the option before its exercise"
    on = at.date()
    fmv = max((v for v in known.valuations if v.effective_on <= on), key=lambda v: v.effective_on)
    return {
        "grant": grant.grant_id,
        "shares": shares,
        "notice": {"method": "personal", "delivered_at": at.isoformat()},
        "exercised_by": {"name": grant.holder_name},
        "payment": [{"form": "check", "amount": check}],
        "representations": list(representations),
        # FMP §9: enclosed while the shares are unregistered (RD: the representations instead)
        "investment_statement": not representations,
        "circumstances": {
            "fair_market_value": {
                "price_per_share": f"{fmv.price_per_share:f}",
                "effective_on": fmv.effective_on.isoformat(),
                "method": fmv.method,
                "resolution": fmv.resolution,
            },
            "securities_law": {"basis": cleared[0], "reference": cleared[1]},
        },
    }


RD_CLEARED = (
    "exemption_opinion_of_counsel",
    "counsel's opinion of 1997-01-28: the issuance is exempt from registration",
)
RD_REPRESENTATIONS = (
    "investment_intent",
    "over_eighteen",
    "own_account",
    "disqualifying_disposition_notice",
)


def _grant_id(known: Known) -> str:
    return str(known.ids["grant"])


def _in_person(at: str) -> dict[str, Any]:
    return {"method": "personal", "delivered_at": pt(at).isoformat()}


FMP_OPTION = Story(
    title="Future Media Productions, Inc.: the Board grants Alex Rivera an option on 4,000 "
    "shares; Alex exercises 400 of them, resigns, and lets the rest of the vested part expire.",
    company_name="Future Media Productions, Inc.",
    terms_id="fmp-1998-nso",
    steps=(
        Record(
            pt("2025-01-10T10:00"),
            "The Board determines the fair market value of the Common Stock in good faith, "
            "there being no market for it (FMP §4(a)(ii)(3)).",
            Valuation(date(2025, 1, 10), Decimal("1.50"), "board_good_faith", "BR-2025-01"),
        ),
        Record(
            pt("2025-01-10T10:05"),
            "The Company enters the 1998 Stock Incentive Plan, which the option is granted "
            "under, in its plan register.",
            Plan("fmp-1998", None, None),
        ),
        Act(
            pt("2025-01-15T10:00"),
            "The Board grants Alex Rivera an option at that value; the Option Certificate sets "
            "the Exercise Schedule, four yearly installments, and the Option Expiration Date.",
            "grant_option",
            "board",
            {
                "optionee": OPTIONEE,
                "optionee_name": OPTIONEE,
                "plan": "fmp-1998",
                "shares": 4000,
                "exercise_price": "1.50",
                "grant_date": "2025-01-15",
                "expiration_date": "2035-01-15",
                "installments": [
                    {"on": f"{year}-01-15", "shares": 1000} for year in (2026, 2027, 2028, 2029)
                ],
            },
            kind="grant",
            reference="BR-2025-02",
        ),
        Record(
            pt("2026-01-12T10:00"),
            "The Board determines the fair market value again, a year on.",
            Valuation(date(2026, 1, 12), Decimal("4.00"), "board_good_faith", "BR-2026-01"),
        ),
        Vests(pt("2026-01-15T09:00"), "The first installment of the Exercise Schedule vests."),
        Act(
            NOTICE_AT,
            "Alex Rivera hands the Company a signed Notice of Exercise for 400 shares, with a "
            "check for $600.00 and the statement of investment intent (FMP §9).",
            "deliver_exercise_notice",
            "owner",
            lambda known: exercise_notice(known, NOTICE_AT, 400, "600.00", FMP_CLEARED),
            kind="option_exercise",
        ),
        Act(
            pt("2026-03-03T09:00"),
            "The Company requires the withholding tax on the spread, 400 × ($4.00 − $1.50) at "
            "30%, before it delivers the shares.",
            "require_withholding",
            "company",
            {"amount": "300.00", "tax_date": "2026-03-16", "fair_market_value": "4.00"},
            kind="option_exercise",
        ),
        Act(
            pt("2026-03-04T09:00"),
            "Alex Rivera delivers a written Election to have shares withheld for all of the tax, "
            "at the flat rate (FMP §13(b), §13(c)(i)).",
            "elect_withholding",
            "owner",
            {
                "method": "withhold_shares",
                "portion": "all",
                "rate_basis": "flat",
                "notice": _in_person("2026-03-04T09:00"),
            },
            kind="option_exercise",
        ),
        LetPass(
            "tax_date",
            "Deadline passes: the Board has not acted on the Election by the Tax Date.",
            kind="option_exercise",
        ),
        Act(
            pt("2026-03-17T09:00"),
            "The Company asks for a letter of investment intent in its own form.",
            "request_investment_letter",
            "company",
            {"requested_at": pt("2026-03-17T09:00").isoformat(), "form": "the Company's form"},
            kind="option_exercise",
        ),
        Act(
            pt("2026-03-18T09:00"),
            "Alex Rivera signs and returns the letter.",
            "deliver_investment_letter",
            "owner",
            {"delivered_at": pt("2026-03-18T09:00").isoformat()},
            kind="option_exercise",
        ),
        Act(
            pt("2026-03-19T10:00"),
            "The Secretary issues the certificate for the shares bought, less those withheld.",
            "issue_certificate",
            "company",
            {
                "certificate_number": "FMP-0042",
                "issued_at": pt("2026-03-19T10:00").isoformat(),
                "holder_address": "9 Vista Way, Valencia CA",
            },
            kind="option_exercise",
            tells="share_register",
        ),
        Act(
            pt("2027-01-18T09:00"),
            "The Company records that Alex Rivera resigned: the last day of employment was "
            "Friday 2027-01-15, the day the second installment vested.",
            "terminate_service",
            "company",
            lambda known: {
                "grant": _grant_id(known),
                "reason": "resignation",
                "terminated_on": "2027-01-15",
            },
            kind="termination",
            tells="grant",
        ),
        LetPass(
            "exercise_window_end",
            "Deadline passes: Alex Rivera exercises no more of the option within the window.",
            kind="termination",
            tells="grant",
        ),
    ),
)

RD_OPTION = Story(
    title="Ray Dream, Inc.: the Board grants Carol Optionee an incentive stock option on 4,800 "
    "shares; she exercises 500 of them, her employment ends, and the rest expires three months on.",
    company_name="Ray Dream, Inc.",
    terms_id="raydream-1992-iso",
    steps=(
        Record(
            pt("1996-02-15T10:00"),
            "The Board determines the fair market value of the Common Stock in good faith: an "
            "incentive stock option is priced at no less than it (RD Plan ¶6(A)).",
            Valuation(date(1996, 2, 15), Decimal("0.20"), "board_good_faith", "BR-1996-01"),
        ),
        Record(
            pt("1996-02-15T10:05"),
            "The Company enters its 1992 Stock Option Plan in the plan register, with the dates "
            "its Secretary certified.",
            Plan("rd-1992", date(1992, 3, 19), date(1995, 10, 5)),
        ),
        Act(
            pt("1996-02-29T10:00"),
            "The Board grants Carol Optionee an incentive stock option at that value; the "
            "agreement sets the Option Term Date.",
            "grant_option",
            "board",
            {
                "optionee": "Carol Optionee",
                "optionee_name": "Carol Optionee",
                "plan": "rd-1992",
                "shares": 4800,
                "exercise_price": "0.20",
                "grant_date": "1996-02-29",
                "initial_vesting_date": "1996-08-31",
            },
            kind="grant",
            reference="BR-1996-02",
        ),
        Vests(
            pt("1997-01-31T09:00"), "Five full months have passed since the Initial Vesting Date."
        ),
        Act(
            RD_NOTICE_AT,
            "Carol Optionee hands the Chief Financial Officer a signed Exercise Form for 500 "
            "shares, with a check for $100.00 and the Form's representations (RD ISO ¶4(b)).",
            "deliver_exercise_notice",
            "owner",
            lambda known: exercise_notice(
                known, RD_NOTICE_AT, 500, "100.00", RD_CLEARED, RD_REPRESENTATIONS
            ),
            kind="option_exercise",
        ),
        Act(
            pt("1997-02-10T10:00"),
            "The Company issues the certificate in Carol Optionee's name (RD ISO ¶4(e)).",
            "issue_certificate",
            "company",
            {
                "certificate_number": "RD-0107",
                "issued_at": pt("1997-02-10T10:00").isoformat(),
                "holder_address": "2 Oak Ave, Mountain View CA",
            },
            kind="option_exercise",
            tells="share_register",
        ),
        Act(
            pt("1997-04-02T09:00"),
            "The Company records that it ended Carol Optionee's employment without cause: her "
            "last day was Monday 1997-03-31.",
            "terminate_service",
            "company",
            lambda known: {
                "grant": _grant_id(known),
                "reason": "without_cause",
                "terminated_on": "1997-03-31",
            },
            kind="termination",
            tells="grant",
        ),
        LetPass(
            "exercise_window_end",
            "Deadline passes: Carol Optionee exercises no more of the option within the window.",
            kind="termination",
            tells="grant",
        ),
    ),
)
