"""Building blocks for the exercise tests: the grant's facts on a day, payments, notices.

A test states the grant's figures on the notice's day in one dict (``facts``) as a reader would
see them; ``ExerciseFlow`` turns it into what the engine hands the exercise: the grant's facts
as the register view loads them (``GrantFacts``, with a schedule that makes those figures) and
the notice's own circumstances in its payload."""

from __future__ import annotations

from typing import Any

from fact_flow import FactFlow
from kind_flow import iso

from workflows.grants.facts import GrantFacts
from workflows.kernel import Decision, Refused

CIRCUMSTANCES = (
    "fair_market_value",
    "securities_law",
    "registered_under_securities_act",
    "s_corporation",
    "optionee_living",
    "subject_to_first_refusal",
)

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


def grant_facts(f: dict[str, Any]) -> GrantFacts:
    """The grant whose schedule makes ``f``'s figures: its exercisable and exercised shares
    vested on the grant date (none before the expiration date when nothing is)."""
    vested = int(f["exercisable"]) + int(f.get("exercised", 0))
    installment = (
        {"on": f["grant_date"], "shares": vested}
        if vested
        else {"on": f["expiration_date"], "shares": int(f["shares"])}
    )
    return GrantFacts.model_validate(
        {
            "grant_id": f["grant_id"],
            "optionee": f["optionee"],
            "plan": "plan",
            "option_type": f["option_type"],
            "shares": f["shares"],
            "exercised": f.get("exercised", 0),
            "exercise_price": f["exercise_price"],
            "grant_date": f["grant_date"],
            "expiration_date": f["expiration_date"],
            "expires_at": f["expires_at"],
            "vesting": {"kind": "installments", "installments": [installment], "clause": "test"},
            "window_ends_at": f.get("window_ends_at"),
            "window_derivation": f.get("window_derivation"),
        }
    )


def split(payload: dict[str, Any] | None) -> tuple[dict[str, Any] | None, GrantFacts | None]:
    """A notice carrying ``facts``: the payload the exercise takes, and the grant's facts."""
    if not payload or "facts" not in payload:
        return payload, None
    body = dict(payload)
    f = body.pop("facts")
    body["grant"] = f["grant_id"]
    body["circumstances"] = {k: f[k] for k in CIRCUMSTANCES if k in f}
    return body, grant_facts(f)


class ExerciseFlow(FactFlow):
    """An exercise, handed its grant's facts as the engine's register view would."""

    def send(self, name: str, party: str, now: str, payload: dict[str, Any] | None = None,
             actor: str = "", reference: str = "") -> Decision:  # fmt: skip
        body, grant = split(payload)
        before, self.facts = self.facts, grant or self.facts
        try:
            return super().send(name, party, now, body, actor, reference)
        except Refused:
            self.facts = before
            raise

    def refused(self, name: str, party: str, now: str, payload: dict[str, Any] | None = None,
                actor: str = "", reference: str = "") -> Refused:  # fmt: skip
        body, grant = split(payload)
        before, self.facts = self.facts, grant or self.facts
        try:
            return super().refused(name, party, now, body, actor, reference)
        finally:
            self.facts = before


def flow(terms_id: str) -> ExerciseFlow:
    return ExerciseFlow("option_exercise", terms_id)
