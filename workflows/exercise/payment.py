"""Paying the exercise price: which forms the terms allow, on what conditions, and how much.

FMP §4(a)(ii): cash, check, cancellation of the Company's debt for accrued unpaid salary, or,
with the Board's consent, Company shares held at least six calendar months (to the extent
needed to avoid §16(b) liability), valued at Fair Market Value; or a mix. RD ISO ¶4(c): cash,
check or cash equivalent; shares owned more than six months or not acquired from the Company,
worth at least the price; Immediate Sales Proceeds under a program the Company approves (it may
decline); or a mix. RD Plan ¶6(C): a recourse note due within five years, interest at least
annually at no less than the rate avoiding imputed interest — where the agreement allows one.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step, money
from workflows.exercise.facts import Circumstances
from workflows.exercise.termination import judge_after_termination
from workflows.grants.facts import GrantFacts
from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.terms.exercise import PaymentForm

FORM_WORDS = {
    "cash": "cash",
    "check": "check",
    "cash_equivalent": "cash equivalent",
    "salary_debt_cancellation": "cancelling the Company's debt for accrued unpaid salary",
    "shares": "tendering Company shares",
    "immediate_sales_proceeds": "Immediate Sales Proceeds",
    "promissory_note": "promissory note",
}


def _amount(part: c.PaymentPart, rule: PaymentForm) -> Decimal:
    if part.amount is None:
        raise Refused(rule.clause, f"payment by {part.form} needs its amount", "invalid_payload")
    return part.amount


def _held_long_enough(s: c.TenderedShares, rule: PaymentForm, on: date) -> str:
    """Why the tendered shares meet the holding rule, or a refusal citing it."""
    if rule.or_not_acquired_from_company and not s.acquired_from_company:
        return "not acquired from the Company"
    if rule.holding_only_if_section_16 and not s.section_16_applies:
        return "no §16(b) liability to avoid: no holding period"
    assert rule.months_held is not None
    until = s.held_since + relativedelta(months=rule.months_held)
    ok = on > until if rule.held_more_than else on >= until
    word = "more than" if rule.held_more_than else "at least"
    if not ok:
        raise Refused(
            rule.clause,
            f"shares tendered in payment must have been held {word} {rule.months_held} months: "
            f"held since {s.held_since}, surrendered {on} ({rule.months_held} months → {until})",
        )
    return f"held since {s.held_since}, {word} {rule.months_held} months by {on}"


def _shares_value(
    part: c.PaymentPart, rule: PaymentForm, facts: Circumstances, on: date
) -> tuple[Decimal, dict[str, Any]]:
    s = part.shares
    if s is None:
        raise Refused(rule.clause, "payment by shares needs payload shares", "invalid_payload")
    if s.redemption_restricted:
        raise Refused(
            rule.clause,
            "the Company may not take shares whose redemption a law, regulation or agreement "
            "restricts",
        )
    holding = _held_long_enough(s, rule, on) if rule.months_held else ""
    fmv = facts.fair_market_value
    detail = {
        "count": s.count,
        "certificate": s.certificate,
        "holding": holding,
        "valued_at": rule.valued_at,
        "price_per_share": money(fmv.price_per_share),
        "determination": fmv.model_dump(mode="json"),
    }
    return s.count * fmv.price_per_share, detail


def _note_value(part: c.PaymentPart, rule: PaymentForm, on: date) -> tuple[Decimal, dict[str, Any]]:
    n = part.note
    if n is None:
        raise Refused(rule.clause, "payment by note needs payload note", "invalid_payload")
    if rule.recourse and not n.recourse:
        raise Refused(rule.clause, "the promissory note must be a recourse note")
    if rule.max_years and n.due_on > on + relativedelta(years=rule.max_years):
        latest = on + relativedelta(years=rule.max_years)
        raise Refused(
            rule.clause,
            f"the note must be due no more than {rule.max_years} years after the exercise: "
            f"due {n.due_on}, latest {latest}",
        )
    every = rule.interest_at_least_every_months
    if every and n.interest_every_months > every:
        raise Refused(rule.clause, f"interest must be payable at least every {every} months")
    if rule.min_rate and n.interest_rate < n.minimum_rate:
        raise Refused(
            rule.clause,
            f"interest {n.interest_rate}% is below {n.minimum_rate}%, the rate that avoids "
            "imputed interest",
        )
    return n.principal, n.model_dump(mode="json")


@enforces("option_exercise.payment")
def evaluate(
    ctx: Ctx,
    parts: list[c.PaymentPart],
    facts: Circumstances,
    price: Decimal,
    shares: int,
    on: date,
) -> dict[str, Any]:
    """The payment as tendered on ``on``: each part's value, the total against the price, and
    which parts wait for the company's decision. Refused, citing its clause, where the terms do
    not allow a form or its conditions are unmet."""
    terms = ctx.ex.payment
    if len(parts) > 1 and not terms.combination.value:
        raise Refused(terms.combination.clause, "payment may not combine several forms")
    total, records, pending = Decimal(0), [], []
    for part in parts:
        rule = terms.forms[part.form]
        if not rule.allowed:
            allowed = ", ".join(FORM_WORDS[f] for f, r in terms.forms.items() if r.allowed)
            raise Refused(
                rule.clause,
                f"payment by {FORM_WORDS[part.form]} is not allowed under these terms; "
                f"they allow: {allowed}",
                "form_not_allowed",
            )
        detail: dict[str, Any] = {}
        if part.form == "shares":
            value, detail = _shares_value(part, rule, facts, on)
        elif part.form == "promissory_note":
            value, detail = _note_value(part, rule, on)
        else:
            value = _amount(part, rule)
            if part.form == "immediate_sales_proceeds":
                if not part.program:
                    raise Refused(rule.clause, "name the sale-proceeds program", "invalid_payload")
                detail = {"program": part.program}
        if rule.company_decides:
            pending.append({"form": part.form, "clause": rule.clause})
        total += value
        records.append({"form": part.form, "value": money(value), "clause": rule.clause, **detail})
    due = shares * price
    if total < due:
        raise Refused(
            terms.full_payment_with_notice.clause,
            f"full payment is due with the notice: {shares} shares × {price} = "
            f"{money(due)}; tendered {money(total)}",
        )
    return {
        "parts": records,
        "total": money(total),
        "due": money(due),
        "on": on.isoformat(),
        "awaiting_decision": pending,
    }


def _after_payment(ctx: Ctx, step_review: str, step_accepted: str) -> Step:
    pending = ctx.data["payment"]["awaiting_decision"]
    step = Step(step_review if pending else step_accepted)
    if pending:
        step.event("payment_review_opened", forms=pending)
    else:
        step.event("exercise_accepted", payment=ctx.data["payment"])
    return step


def after_notice(ctx: Ctx) -> Step:
    return _after_payment(ctx, "submit_notice", "accept_notice")


@enforces("option_exercise.payment.forms")
def accept_payment(ctx: Ctx, cmd: c.AcceptPayment) -> Step:
    """The Board's consent to shares tendered (FMP §4(a)(ii)), the Company's approval of the
    sale-proceeds program (RD ISO ¶4(c)(iii))."""
    decided = ctx.past(cmd.decided_at, "decided_at")
    payment = ctx.data["payment"]
    payment["accepted"] = {
        "at": decided.isoformat(),
        "resolution": cmd.resolution or (ctx.actor.reference if ctx.actor else ""),
        "by": ctx.actor_record(),
        "forms": payment["awaiting_decision"],
    }
    step = Step("accept_payment")
    step.event("payment_accepted", forms=payment["awaiting_decision"], at=decided.isoformat())
    return step


@enforces("option_exercise.payment.forms")
def refuse_payment(ctx: Ctx, cmd: c.RefusePayment) -> Step:
    """The Board withholds consent to a share tender (FMP §4(a)(ii)); the Company declines the
    sale-proceeds program (RD ISO ¶4(c)(iii): in its sole and absolute discretion)."""
    decided = ctx.past(cmd.decided_at, "decided_at")
    payment = ctx.data.pop("payment")
    clauses = sorted({f["clause"] for f in payment["awaiting_decision"]})
    refusal = {
        "at": decided.isoformat(),
        "reason": cmd.reason,
        "by": ctx.actor_record(),
        "payment": payment,
        "clauses": clauses,
    }
    ctx.data.setdefault("payments_refused", []).append(refusal)
    step = Step("refuse_payment")
    step.event("payment_refused", reason=cmd.reason, clauses=clauses, at=decided.isoformat())
    return step


@enforces("option_exercise.expiry", "option_exercise.post_termination_window")
def check_open(ctx: Ctx, facts: GrantFacts, at: datetime, what: str) -> None:
    """The option may still be exercised at ``at`` (FMP §2, §5; RD ISO ¶6, ¶7): the grant's
    expiration, and the window of a termination recorded on it, with its derivation."""
    ex = ctx.ex
    if at > facts.expires_at:
        raise Refused(
            ex.expiry.clause,
            f"{what} took effect {ctx.cal.fmt(at)}, after the option expired at "
            f"{ctx.cal.fmt(facts.expires_at)} ({ex.expiry.value} {facts.expiration_date})",
            "late",
        )
    if facts.window_ends_at is not None and at > facts.window_ends_at:
        how = f" ({facts.window_derivation})" if facts.window_derivation else ""
        raise Refused(
            ex.post_termination_window.clause,
            f"{what} took effect {ctx.cal.fmt(at)}, after the post-termination window closed at "
            f"{ctx.cal.fmt(facts.window_ends_at)}{how}",
            "late",
        )


def tender_payment(ctx: Ctx, cmd: c.TenderPayment) -> Step:
    """Another payment after the first was refused: still due before the option ends."""
    paid = ctx.past(cmd.paid_at, "paid_at")
    grant = ctx.grant()
    check_open(ctx, grant, paid, "the payment")
    judge_after_termination(ctx, paid, "the payment")
    ctx.data["payment"] = evaluate(
        ctx, cmd.payment, ctx.circumstances, grant.exercise_price, int(ctx.data["shares"]),
        ctx.local_day(paid),
    )  # fmt: skip
    return _after_payment(ctx, "tender_for_review", "tender_accepted")
