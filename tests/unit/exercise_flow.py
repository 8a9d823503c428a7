"""Building blocks for the exercise tests: the grant's facts on a day, payments, notices."""

from __future__ import annotations

from typing import Any

from kind_flow import KindFlow, iso

FMP = "fmp-1998-nso"
RD_ISO = "raydream-1992-iso"
RD_NSO = "raydream-1992-nso"


def facts(**changes: Any) -> dict[str, Any]:
    """An FMP grant of 10,000 shares at $0.50 on 1999-01-15, 2,500 exercisable on 2000-03-01,
    expiring at the end of 2009-01-14; FMV $2.00 by the Board in good faith."""
    base: dict[str, Any] = {
        "grant_id": "G-1",
        "optionee": "Alex Rivera",
        "option_type": "nso",
        "grant_date": "1999-01-15",
        "shares": 10_000,
        "exercise_price": "0.50",
        "as_of": "2000-03-01",
        "vested": 2_500,
        "exercisable": 2_500,
        "exercised": 0,
        "expiration_date": "2009-01-14",
        "expires_at": iso("2009-01-14T23:59:59.999999"),
        "fair_market_value": {
            "price_per_share": "2.00",
            "effective_on": "2000-01-10",
            "method": "board_good_faith",
            "resolution": "Board resolution 2000-01",
        },
        "securities_law": {
            "basis": "compliance_confirmed_by_company_and_counsel",
            "reference": "counsel letter 2000-02-20",
        },
    }
    return base | changes


def rd_facts(**changes: Any) -> dict[str, Any]:
    """A Ray Dream ISO granted 1992-10-30, 4,800 shares at $0.20; the Option Term Date is the
    tenth anniversary less one day (RD ISO ¶1(h)): 2002-10-29."""
    return (
        facts(
            grant_id="RD-7",
            optionee="Sam Lee",
            option_type="iso",
            grant_date="1992-10-30",
            shares=4_800,
            exercise_price="0.20",
            as_of="1994-05-02",
            vested=1_300,
            exercisable=1_300,
            expiration_date="2002-10-29",
            expires_at=iso("2002-10-29T23:59:59.999999"),
            fair_market_value={
                "price_per_share": "1.00",
                "effective_on": "1994-04-01",
                "method": "board_good_faith",
                "resolution": "Board resolution 94-3",
            },
            securities_law={"basis": "exemption_opinion_of_counsel", "reference": "opinion 94-1"},
        )
        | changes
    )


RD_REPRESENTATIONS = [
    "investment_intent",
    "over_eighteen",
    "own_account",
    "disqualifying_disposition_notice",
]


def cash(amount: str, form: str = "cash") -> dict[str, Any]:
    return {"form": form, "amount": amount}


def notice(
    shares: int,
    payment: list[dict[str, Any]],
    notice_given: dict[str, str],
    grant: dict[str, Any],
    **more: Any,
) -> dict[str, Any]:
    return {
        "shares": shares,
        "notice": notice_given,
        "exercised_by": {"name": grant["optionee"], "capacity": "optionee"},
        "payment": payment,
        "facts": grant,
    } | more


def flow(terms_id: str) -> KindFlow:
    return KindFlow("option_exercise", terms_id)
