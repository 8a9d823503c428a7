"""The owner's sale to the third party once the company did not buy.

FMP §6(d)(iv): no Exercise Notice within the 30 days → the owner has 30 days thereafter to sell
on terms no more favourable to the buyer than the notice's; the buyer takes the shares free and
clear of the Agreement; unsold in time → the right applies again to any later disposition.
RD ISO ¶11(e): the optionee may transfer to the Proposed Transferee on the notice's terms no
later than 120 days after delivery of the Transfer Notice; the company may demand assurances
and nothing is recorded on its books until it has them (if demanded) and has approved the
transfer as bona fide. RD ISO ¶11(f): the transferee agrees in writing to hold the shares still
subject to the right.

A sale is judged by its date, not by when it is reported: the end of the window only makes the
workflow show the right as applying again (``rofr_reattached``); a sale dated inside the window
is still recorded when reported later, and one dated after it is refused.

A sale of fewer than all the shares: FMP §6(d)(iv) lets the owner "sell or otherwise dispose of
the Target Shares" within the 30 days, and the right continues for any of them not disposed of
in time. So each partial sale is recorded, the window stays open for the rest, several sales add
up (never beyond the Target Shares), and at the window's end the right applies again to the
unsold remainder. Not so after a part exercise and the owner's choice of (A): FMP §6(d)(v)(A)
is a sale of "all the Target Shares" (see alternative_a). RD ISO ¶11(e) allows only "a transfer
to the Proposed Transferee of the Transfer Shares on the terms and conditions described in the
Transfer Notice"; a transfer of part of them is on different terms, is again subject to the
right and needs a new notice.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from workflows.calendar import Deadline
from workflows.kernel import Party, Refused, TimerFired
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.alternative_a import check_sale_under_a
from workflows.rofr.approval import recorded
from workflows.rofr.compliance import transfer_compliance
from workflows.rofr.context import ELECTION, OWNER_CHOICE, SALE_WINDOW, Ctx, Step


def _opens_at(ctx: Ctx) -> str:
    """When the owner may start selling (ISO 8601): on the waiver's effect, else when the
    company's time to elect ends (FMP §6(d)(iv): "thereafter")."""
    waived = ctx.data.get("waived")
    if waived:
        return ctx.instant("waived", "notice", "effective_at").isoformat()
    return ctx.must_deadline(ELECTION).at_text


@enforces("rofr.buyer_takes", "rofr.sale_buyer", "rofr.sale_window")
def open_sale_window(ctx: Ctx, step: Step) -> None:
    """Entering ``owner_sale_window``: the owner's time to sell as noticed."""
    opens_at = _opens_at(ctx)
    window = ctx.rofr.sale_window
    if window.runs_from == "election_deadline":
        election = ctx.must_deadline(ELECTION)
        counted = ctx.window_end(window, election.at)
        end = Deadline(counted.at, counted.clause, counted.derivation, (election,))
    else:
        end = ctx.must_deadline("sale_window_limit")
    ctx.data["sale_window"] = {"opens_at": opens_at, "ends_at": end.at_text}
    buyer = (
        "the Proposed Transferee"
        if ctx.rofr.sale_buyer.value == "proposed_transferee"
        else "a third party"
    )
    ctx.set_timer(
        step,
        SALE_WINDOW,
        end,
        Party.OWNER,
        f"sell to {buyer} on the notice's terms, or the right applies again",
    )
    step.event(
        "sale_window_opened",
        opens_at=opens_at,
        deadline=end.as_dict(),
        buyer_takes=ctx.rofr.buyer_takes.value,
        clause=window.clause,
    )


def _per_share(total: Decimal | None, per_share: Decimal | None, shares: int) -> Decimal | None:
    if per_share is not None:
        return per_share
    return None if total is None else total / shares


@enforces("rofr.notice_name", "rofr.sale_terms", "rofr.sale_window")
def _check_terms(ctx: Ctx, cmd: c.ReportThirdPartySale) -> dict[str, str]:
    shares = cmd.shares
    rofr, cons = ctx.rofr, ctx.data["consideration"]
    rule, terms = rofr.sale_window.clause, rofr.sale_terms
    wording = (
        "no more favourable to the buyer than"
        if terms.value == "no_more_favourable"
        else "the same as"
    )
    if terms.value == "as_described" and shares != ctx.data["shares"]:
        notice = ctx.rofr.notice_name.value
        raise Refused(
            terms.clause,
            f"a transfer of {shares} of the {ctx.data['shares']} shares is not on the terms the "
            f"{notice} described: a transfer on different terms is again subject to the Right of "
            f"First Refusal and needs a new {notice}",
        )
    if cons["form"] == "property" or ctx.data.get("price_basis") != "stated":
        if not cmd.conforms_to_notice:
            raise Refused(
                terms.clause,
                f"confirm payload.conforms_to_notice: the sale's terms are {wording} the notice's",
            )
        return {}
    sold = _per_share(cmd.total, cmd.price_per_share, shares)
    if sold is None:
        raise Refused(
            rule, "payload.price_per_share or payload.total is required", "invalid_payload"
        )
    noticed = _per_share(
        ctx.amount("consideration", "total"),
        ctx.amount("consideration", "price_per_share"),
        ctx.data["shares"],
    )
    assert noticed is not None
    if terms.value == "no_more_favourable" and sold < noticed:
        raise Refused(
            terms.clause,
            f"a price of {sold:.4f} per share is below the notice's {noticed:.4f}: more "
            "favourable to the buyer than the notice's terms",
        )
    if terms.value == "as_described" and sold != noticed:
        raise Refused(
            terms.clause,
            f"a price of {sold:.4f} per share is not the notice's {noticed:.4f}",
        )
    return {"price_per_share": str(sold)}


@enforces(
    "rofr.notice_name",
    "rofr.recording_needs_approval",
    "rofr.sale_buyer",
    "rofr.sale_window",
    "rofr.transferee_written_agreement",
)
def report_third_party_sale(ctx: Ctx, cmd: c.ReportThirdPartySale) -> Step:
    rofr = ctx.rofr
    rule = rofr.sale_window.clause
    if ctx.state == "owner_choice":
        choice = ctx.must_deadline(OWNER_CHOICE)
        raise Refused(
            rule,
            f"the company elected {ctx.data['elected_shares']} of the {ctx.data['shares']} shares: "
            f"the owner first chooses, by {ctx.cal.fmt(choice.at)}, to sell all to a third party "
            "or the elected shares to the company; no sale before that choice",
            "too_early",
        )
    if ctx.state == "election_window":
        election = ctx.must_deadline(ELECTION)
        raise Refused(
            rule,
            f"the company may elect until {ctx.cal.fmt(election.at)}: "
            "no sale before the election ends",
            "too_early",
        )
    if ctx.state not in ("owner_sale_window", "rofr_reattached"):
        raise Refused(
            rule,
            f"no sale is open while the transfer is {ctx.describe()}",
            "wrong_state",
        )
    sold_at = ctx.fact_time("sold_at", cmd.sold_at, rule)
    opens = ctx.instant("sale_window", "opens_at")
    end = ctx.must_deadline(SALE_WINDOW)
    if sold_at < opens:
        raise Refused(
            rule,
            f"the sale on {ctx.cal.fmt(sold_at)} came before the owner's sale window "
            f"opened {ctx.cal.fmt(opens)}",
            "too_early",
        )
    # Judged by the sale date, not by when it is reported: a sale made inside the window stands
    # even if reported after the window's timer fired and the right was shown as applying again.
    if end.passed(sold_at):
        raise Refused(
            rule,
            f"the sale on {ctx.cal.fmt(sold_at)} came after the owner's sale window closed "
            f"{ctx.cal.fmt(end.at)} ({end.derivation}); the Right of First Refusal applies to "
            f"it again: deliver a new {rofr.notice_name.value} first",
            "late",
        )
    buyer = cmd.buyer.model_dump(exclude_unset=True)
    buyer_name = cmd.buyer.name
    if rofr.sale_buyer.value == "proposed_transferee":
        named = {t["name"].casefold(): t["name"] for t in ctx.data["transferees"]}
        if buyer_name.casefold() not in named:
            raise Refused(
                rofr.sale_buyer.clause,
                f"only the Proposed Transferee ({', '.join(named.values())}) may buy on "
                "this notice; another buyer needs a new notice",
            )
    shares = cmd.shares
    target, sold_before = ctx.data["shares"], ctx.data.get("sold_shares", 0)
    unsold = target - sold_before
    if shares > unsold:
        already = f"; {sold_before} were sold already" if sold_before else ""
        raise Refused(
            rule,
            f"a sale of {shares} shares exceeds the {unsold} of the notice's {target} shares "
            f"still unsold{already}",
        )
    check_sale_under_a(ctx, shares)
    price = _check_terms(ctx, cmd)
    needs_approval = rofr.recording_needs_approval.value
    remaining = unsold - shares
    if remaining and needs_approval:
        # The approval of a recorded transfer (RD ISO ¶11(e)) is of the whole transfer noticed;
        # these terms give no way to approve it piece by piece.
        raise Refused(
            rofr.recording_needs_approval.clause,
            f"these terms record a transfer only once the company approves it: report the sale "
            f"of all {unsold} unsold shares",
        )
    agreement = rofr.transferee_written_agreement
    if agreement.value and not cmd.transferee_agreed_in_writing:
        raise Refused(
            agreement.clause,
            "the transferee must agree in writing to hold the shares subject to the "
            "Right of First Refusal",
        )
    compliance = transfer_compliance(ctx, "owner_sale", cmd.compliance)
    sale: dict[str, Any] = {
        "buyer": buyer,
        "shares": shares,
        "sold_at": sold_at.isoformat(),
        **price,
        **({"compliance": compliance} if compliance else {}),
    }
    ctx.data["sale"] = sale
    ctx.data.setdefault("sales", []).append(sale)
    ctx.data["sold_shares"] = sold_before + shares
    step = Step("sell")
    if remaining:
        # FMP §6(d)(iv): the rest stay for sale until the window ends (its timer is kept); after
        # it, the right applies again to what is left unsold.
        if ctx.state == "rofr_reattached":
            ctx.data["reattached_shares"] = remaining
    else:
        step.cancel_timers.append(SALE_WINDOW)
    step.event(
        "third_party_sale_reported",
        **sale,
        shares_sold=sold_before + shares,
        shares_remaining=remaining,
        target_shares=target,
        reported_after_window=end.passed(ctx.now),  # entered after the window closed
        clause=rule,
    )
    if not needs_approval:
        recorded(ctx, step)
    return step


@enforces("rofr.sale_window")
def unsold_remain(ctx: Ctx) -> bool:
    """Guard, FMP §6(d)(iv): shares of the notice are still unsold after a sale of part."""
    return bool(ctx.data.get("sold_shares", 0) < ctx.data["shares"])


@enforces("rofr.sale_window")
def on_timer(ctx: Ctx, timer: TimerFired) -> Step | None:
    if timer.name != SALE_WINDOW or ctx.state != "owner_sale_window":
        return None
    end = ctx.must_deadline(SALE_WINDOW)
    sold = ctx.data.get("sold_shares", 0)
    unsold = ctx.data["shares"] - sold
    ctx.data["reattached_shares"] = unsold
    step = Step("sale_window_expired")
    step.event(
        "sale_window_expired",
        deadline=end.as_dict(),
        shares_sold=sold,
        shares_remaining=unsold,
    )
    step.event(
        "rofr_reattached",
        holder=ctx.data["holder"],
        shares=unsold,
        target_shares=ctx.data["shares"],
        shares_sold=sold,
        clause=ctx.rofr.sale_window.clause,
    )
    return step
