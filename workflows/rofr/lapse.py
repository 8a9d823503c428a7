"""Events on which the right ends for good.

FMP §6(d)(vi): the earliest of more than 500 holders of record, a Board determination that a
public market exists, or a firm-commitment underwritten public offering of at least $5,000,000.
RD ISO ¶11(i): a Transfer of Control (unless the successor assumes the Company's rights and
obligations under the Plan), or a public market (a national exchange listing, or OTC trading
with prices published daily). A purchase the company already exercised before the event is a
bargain made and proceeds to closing. RD ISO ¶11(i) ends the right "the other provisions of this
paragraph 11 notwithstanding": a sale awaiting the company's approval under ¶11(e) no longer
waits for it, and is recorded.
"""

from __future__ import annotations

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.context import ALL_TIMERS, Ctx, Step
from workflows.terms.rofr import LapseEvent

EXERCISED = ("valuation", "closing")


def _missing(clause: str, field: str, what: str) -> Refused:
    return Refused(clause, f"payload.{field} {what}", "invalid_payload")


def _facts(ctx: Ctx, cmd: c.RecordLapseEvent, rule: LapseEvent) -> dict[str, object]:
    clause = rule.clause
    if rule.event == "holders_of_record_exceeded":
        holders = cmd.holders_of_record
        if holders is None:
            raise _missing(clause, "holders_of_record", "must be a whole number of shares above 0")
        if rule.more_than_holders and holders <= rule.more_than_holders:
            raise Refused(
                clause,
                f"{holders} holders of record is not more than {rule.more_than_holders}: "
                "the right continues",
                "not_a_lapse",
            )
        return {"holders_of_record": holders}
    if rule.event == "firm_commitment_offering":
        offered = cmd.offering_amount
        if offered is None:
            raise _missing(
                clause, "offering_amount", "must be an amount (a number or a decimal string)"
            )
        if not cmd.firm_commitment or not cmd.registered:
            raise Refused(
                clause,
                "only a firm-commitment underwritten offering under an effective registration "
                "statement ends the right",
                "not_a_lapse",
            )
        if rule.min_offering_amount and offered < rule.min_offering_amount:
            raise Refused(
                clause,
                f"an offering of ${offered:,} is below the ${rule.min_offering_amount:,} that ends "
                "the right",
                "not_a_lapse",
            )
        return {"offering_amount": str(offered)}
    if rule.event == "public_market_determined":
        resolution = cmd.resolution or (ctx.actor.reference if ctx.actor else "")
        if not resolution:
            raise Refused(
                clause,
                "name the Board resolution (payload.resolution or the actor's reference)",
            )
        return {"resolution": resolution}
    if rule.event == "transfer_of_control":
        if cmd.successor_assumes_plan is None:
            raise Refused(clause, "payload.successor_assumes_plan is required")
        if rule.unless_successor_assumes and cmd.successor_assumes_plan:
            raise Refused(
                clause,
                "the successor assumed the Company's rights under the Plan: the right continues",
                "not_a_lapse",
            )
        return {"successor_assumes_plan": False}
    markets = tuple(rule.markets) or ("national_exchange", "otc_daily_prices")
    if cmd.market not in markets:
        raise _missing(clause, "market", f"must be one of {', '.join(markets)}; got {cmd.market!r}")
    return {"market": cmd.market}


@enforces("rofr.lapse_events")
def record_lapse_event(ctx: Ctx, cmd: c.RecordLapseEvent) -> Step:
    rofr = ctx.rofr
    kinds: dict[str, LapseEvent] = {e.event: e for e in rofr.lapse_events}
    name = cmd.event
    rule = kinds.get(name)
    if rule is None:
        raise Refused(
            rofr.clause,
            f"{name!r} does not end the right under these terms; "
            f"events that do: {', '.join(kinds)}",
        )
    if ctx.party not in rule.parties:
        raise Refused(
            rule.clause,
            f"the {ctx.party} may not record {name}; only {', '.join(rule.parties)}",
            "not_authorised",
        )
    facts = _facts(ctx, cmd, rule)
    occurred_at = ctx.fact_time("occurred_at", cmd.occurred_at, rule.clause)
    if ctx.state in EXERCISED:
        exercised = ctx.instant("elections", -1, "notice", "effective_at")
        if occurred_at >= exercised:
            raise Refused(
                rule.clause,
                f"the right was exercised {ctx.cal.fmt(exercised)}, before the event; "
                "the purchase proceeds to closing",
                "wrong_state",
            )
    pending = ctx.state == "transfer_pending_approval"
    step = Step("lapse", cancel_timers=list(ALL_TIMERS))
    ctx.data["lapse"] = {"event": name, "occurred_at": occurred_at.isoformat(), **facts}
    step.event(
        "rofr_lapsed",
        lapse_event=name,
        occurred_at=occurred_at.isoformat(),
        by=ctx.actor_record(),
        escrow_release_due=bool(ctx.data.get("escrow")),
        clause=rule.clause,
        **facts,
    )
    if pending:
        # The approval of ¶11(e) was part of the right that has now ended.
        step.event(
            "transfer_recorded",
            buyer=ctx.data["sale"]["buyer"],
            shares=ctx.data["sale"]["shares"],
            buyer_takes="free_of_the_right",
            approval_needed=False,
            clause=rule.clause,
        )
    return step
