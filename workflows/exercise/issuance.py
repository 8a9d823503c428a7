"""Issuing the certificate for the Purchased Shares, once every condition of delivery is met.

FMP §4(b): certificates for the Purchased Shares; no fraction of a share need be issued, and its
Fair Market Value may be paid in cash. FMP §6(f): the legend of the first refusal and repurchase
rights; §10: such further legends as the Company deems advisable. RD ISO ¶4(e): registered in
the Optionee's name (or the heirs'); ¶4(g): no fractional shares; ¶12(a): into escrow when the
Company requires it; ¶15–¶16: the Commissioner's legend and the legends the Company places.
RD ISO ¶14: a disposition within one year of exercise or two years of grant must be notified to
the Chief Financial Officer — the watch is recorded with its dates, and goes with the
certificate to the share register (``workflows.exercise.disposition``).
"""

from __future__ import annotations

from datetime import datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step, money
from workflows.exercise.delivery import unmet
from workflows.exercise.disposition import record_in_register
from workflows.exercise.withholding import covered_by_election, outstanding
from workflows.kernel import Party, Refused, Send
from workflows.kit.clauses import enforces


@enforces("option_exercise.disposition_watch")
def _watch(ctx: Ctx) -> dict[str, Any] | None:
    rule = ctx.ex.disposition_watch
    if rule is None:
        return None
    exercised = ctx.local_day(datetime.fromisoformat(ctx.data["notice"]["effective_at"]))
    granted = ctx.grant().grant_date
    after_exercise = exercised + relativedelta(years=rule.years_after_exercise)
    after_grant = granted + relativedelta(years=rule.years_after_grant)
    ends = max(after_exercise, after_grant)
    return {
        "clause": rule.clause,
        "notify": rule.notify,
        "exercised_on": exercised.isoformat(),
        "granted_on": granted.isoformat(),
        "after_exercise": after_exercise.isoformat(),
        "after_grant": after_grant.isoformat(),
        "ends_on": ends.isoformat(),
        "derivation": f"{rule.clause}: the later of exercise {exercised} + "
        f"{rule.years_after_exercise} year(s) = {after_exercise} and grant {granted} + "
        f"{rule.years_after_grant} years = {after_grant} → {ends}",
    }


@enforces("option_exercise.legends", "option_exercise.optional_legends")
def _legends(
    ctx: Ctx, cmd: c.IssueCertificate, watch: dict[str, Any] | None
) -> list[dict[str, str]]:
    out = []
    known = {legend.key for legend in ctx.ex.legends}
    stray = [k for k in cmd.omit_legends if k not in known]
    if stray:
        raise Refused(ctx.clause, f"no legends {stray}; known: {sorted(known)}", "invalid_payload")
    for legend in ctx.ex.legends:
        if legend.while_subject_to_rights and not ctx.circumstances.subject_to_first_refusal:
            continue
        if legend.key in cmd.omit_legends:
            if legend.placement == "required":
                raise Refused(legend.clause, f"the {legend.key} legend is required")
            continue
        text = " ".join(legend.text.split())
        if "{watch_ends_on}" in text:
            text = text.replace("{watch_ends_on}", watch["ends_on"] if watch else "")
        out.append({"key": legend.key, "clause": legend.clause, "text": text})
    if cmd.additional_legends:
        optional = ctx.ex.optional_legends
        if not optional.value:
            raise Refused(optional.clause, "these terms provide for no further legends")
        out += [
            {"key": "additional", "clause": optional.clause, "text": t}
            for t in cmd.additional_legends
        ]
    return out


@enforces("option_exercise.fractional_shares")
def _whole_shares(ctx: Ctx) -> dict[str, Any]:
    """Shares to deliver: the Purchased Shares less those withheld under the Election; a
    fraction is not issued (and its FMV is paid in cash where the terms say)."""
    rule = ctx.ex.fractional_shares
    purchased = Decimal(ctx.data["shares"])
    e, w = ctx.data.get("election") or {}, ctx.data.get("withholding") or {}
    fmv = Decimal(w.get("fair_market_value") or ctx.circumstances.fair_market_value.price_per_share)
    withheld = Decimal(0)
    if e.get("method") == "withhold_shares":
        withheld = covered_by_election(ctx) / fmv
    deliverable = purchased - withheld
    whole = deliverable.to_integral_value(rounding=ROUND_FLOOR)
    fraction = deliverable - whole
    out: dict[str, Any] = {
        "purchased": int(purchased),
        "withheld": format(withheld.normalize(), "f"),
        "issued": int(whole),
    }
    if fraction and not rule.issued.value:
        shares = format(fraction.normalize(), "f")
        out["fraction"] = {"shares": shares, "clause": rule.issued.clause}
        if rule.cash_for_fraction.value:
            out["fraction"].update(
                cash=money(fraction * fmv),
                price_per_share=money(fmv),
                cash_clause=rule.cash_for_fraction.clause,
            )
    return out


@enforces("option_exercise.certificate_name")
def _registered_in(ctx: Ctx) -> str:
    who = ctx.data["exercised_by"]
    living = ctx.circumstances.optionee_living
    return ctx.grant().holder_name if living else str(who["name"])


@enforces("option_exercise.shareholder_from")
def issue_certificate(ctx: Ctx, cmd: c.IssueCertificate) -> Step:
    issued = ctx.past(cmd.issued_at, "issued_at")
    if issued < datetime.fromisoformat(ctx.data["notice"]["effective_at"]):
        raise Refused(ctx.clause, "payload.issued_at is before the notice took effect",
                      "invalid_payload")  # fmt: skip
    owed, w = outstanding(ctx), ctx.data.get("withholding") or {}
    if owed and not w.get("remit_by"):
        raise Refused(
            str(w["clause"]),
            f"withholding of {money(owed)} is still owed (required {w['amount']}, remitted "
            f"{w['remitted']}): a condition of delivery",
            "condition_unmet",
        )
    missing = unmet(ctx)
    if missing:
        clause = "; ".join(dict.fromkeys(cl for cl, _ in missing))
        raise Refused(clause, "still owed: " + ", ".join(w for _, w in missing), "condition_unmet")
    watch = _watch(ctx)
    escrow = ctx.data.get("escrow")
    certificate = {
        "number": cmd.certificate_number,
        "issued_at": issued.isoformat(),
        "registered_in": _registered_in(ctx),
        "name_clause": ctx.ex.certificate_name.clause,
        "shares": _whole_shares(ctx),
        "legends": _legends(ctx, cmd, watch),
        "delivered_to": str(Party.ESCROW_AGENT) if escrow else "optionee",
        "shareholder_from": issued.isoformat(),
        "shareholder_clause": ctx.ex.shareholder_from.clause,
    }
    if owed:  # the Company set a later date for the remittance
        certificate["withholding_owed"] = {"amount": money(owed), "by": w["remit_by"],
                                           "clause": w["later_clause"]}  # fmt: skip
    if escrow:
        certificate["escrow_agent"] = escrow["agent"]
    ctx.data["certificate"] = certificate
    step = Step("issue")
    step.event("certificate_issued", certificate=certificate)
    record_in_register(ctx, step, cmd, certificate, watch)
    if watch:
        ctx.data["disposition_watch"] = watch
        step.event("disposition_watch_started", watch=watch)
    grant = ctx.data.get("grant")
    step.event("exercise_completed", shares=ctx.data["shares"],
               grant_id=grant or ctx.data.get("grant_id"))  # fmt: skip
    if grant:  # an exercise stored before the register view has no grant there to tell
        _tell_grant(ctx, step, grant, certificate)
    return step


@enforces("option_exercise.shares_acquired")
def _tell_grant(ctx: Ctx, step: Step, grant: str, certificate: dict[str, Any]) -> None:
    """The shares are acquired when the certificate issues (RD ISO ¶4(a) "shares previously
    acquired upon exercise", ¶10; FMP §4(b)): the grant records them, by a command the engine
    delivers to it as its own transition (its id derived from this act). Until then the
    exercise's own claim held them (``data.claim``)."""
    exercised_on = ctx.local_day(datetime.fromisoformat(ctx.data["notice"]["effective_at"]))
    step.send.append(Send("grant", "record_exercised_shares", {
        "shares": certificate["shares"]["purchased"], "exercised_on": exercised_on.isoformat(),
        "certificate": certificate["number"],
    }, workflow_id=grant))  # fmt: skip
