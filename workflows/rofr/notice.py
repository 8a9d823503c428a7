"""The owner's notice of a proposed transfer, and the company's finding that it falls short.

FMP §6(d)(ii): a Disposition Notice to the Secretary with the bona fide offer's basic terms,
incl. the price, and satisfactory proof that the sale would not contravene §6(b), (c), (g), (h).
RD ISO ¶11(b): a Transfer Notice describing the transfer fully (shares, the Proposed
Transferee's name and address, the price if voluntary, evidence it is bona fide), one per
transferee, signed by the optionee and the transferee. RD ISO ¶11(c): the company may find it
insufficient (no transfer until the procedure is followed) or not bona fide (no transfer).
"""

from __future__ import annotations

from workflows.kernel import Party, Refused
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr import notice_contents as nc
from workflows.rofr.context import ALL_TIMERS, ELECTION, JOINT_APPRAISER, VALUE_AGREEMENT, Ctx, Step
from workflows.rofr.valued import needs_appraisal

# What one notice decided; archived, never carried over, when a later notice starts afresh.
PER_NOTICE = (
    "transfer_notice",
    "shares",
    "transferees",
    "consideration",
    "elections",
    "elected_shares",
    "waived",
    "assignee_waivers",
    "rejection",
    "owner_choice",
    "sale_window",
    "purchase_shares",
    "sale",
    "sales",
    "sold_shares",
    "reattached_shares",
)


def _start_afresh(ctx: Ctx) -> None:
    """A notice after an earlier one in this workflow (resubmitted after a finding of
    insufficiency, or a new notice once the right applied again) is judged on its own.

    RD ISO ¶11(d): the company's exercise or failure to exercise on one Transfer Notice does
    not affect its right on any other notice; FMP §6(d)(iv): unsold in time, the right applies
    to any subsequent disposition as if new. So no waiver, election, finding or window of the
    earlier notice survives; the earlier notice is kept in ``previous_notices`` for the record.
    Assignments of the right are not per notice (FMP §16(c); RD ISO ¶11(h): "at any time").
    """
    if ctx.state == "new":
        return
    earlier = {k: ctx.data[k] for k in PER_NOTICE if k in ctx.data}
    earlier["outcome"] = ctx.state
    kept = {
        "assignees": ctx.data.get("assignees", []),
        "previous_notices": [*ctx.data.get("previous_notices", []), earlier],
    }
    ctx.data.clear()
    ctx.data.update(kept)


@enforces(
    "rofr.election_scope",
    "rofr.election_window",
    "rofr.non_cash.agree_value",
    "rofr.non_cash.joint_appraiser",
    "rofr.non_cash.method",
    "rofr.notice_name",
    "rofr.requirements.transfer_types",
    "rofr.sale_window",
)
def deliver_transfer_notice(ctx: Ctx, cmd: c.DeliverTransferNotice) -> Step:
    rofr, req = ctx.rofr, ctx.rofr.requirements
    rule = rofr.notice_name.clause
    holder = cmd.holder
    if ctx.data.get("holder") not in (None, holder):
        raise Refused(
            rule,
            f"this transfer is {ctx.data['holder']}'s; a notice for another holder "
            "starts its own workflow",
        )
    transfer_type = cmd.transfer_type
    if transfer_type not in req.transfer_types.value:
        raise Refused(
            req.transfer_types.clause,
            f"transfer_type {transfer_type!r} is not one these terms provide a notice "
            f"for ({', '.join(req.transfer_types.value)})",
        )
    shares = cmd.shares
    transferees = nc.transferees(ctx, cmd, rule)
    consideration, price_basis = nc.consideration(ctx, cmd, rule)
    nc.check_contents(ctx, cmd, rule)
    eff = ctx.notice("transfer_notice", rule, cmd.notice)
    dated = nc.date_on_notice(ctx, eff, cmd.notice.dated, rule)
    record = eff.record(Party.OWNER, Party.COMPANY)
    _start_afresh(ctx)
    ctx.data.update(
        terms_id=ctx.terms.id,
        family=ctx.terms.family,
        holder=holder,
        shares=shares,
        transfer_type=transfer_type,
        transferees=transferees,
        transferee=transferees[0],
        consideration=consideration,
        price_basis=price_basis,
        escrow=cmd.shares_in_escrow,
        transfer_notice=record,
        notice_dated=(dated or nc.day_given(ctx, eff)).isoformat(),
        notice_dated_from="the date on the notice"
        if dated
        else f"undated: taken as the day it was given; {eff.derivation}",
        elections=[],
        elected_shares=0,
        assignees=ctx.data.get("assignees", []),
        deadlines={},
    )
    ctx.data.update(
        cmd.model_dump(
            mode="json",
            exclude_unset=True,
            include={
                "compliance_proof",
                "bona_fide_evidence",
                "signed_by",
                "binding_commitment",
                "holder_name",
                "certificates",
            },
        )
    )
    ctx.data["valuation"] = None
    if consideration["form"] == "property":
        ctx.data["valuation"] = {"method": rofr.non_cash.method, "stage": "negotiating"}
    step = Step("submit_notice")
    step.event(
        "transfer_notice_received",
        notice_name=rofr.notice_name.value,
        holder=holder,
        shares=shares,
        transfer_type=transfer_type,
        transferees=transferees,
        consideration=consideration,
        price_basis=price_basis,
        notice=record,
    )
    return step


@enforces(
    "rofr.election_scope",
    "rofr.election_window",
    "rofr.non_cash.agree_value",
    "rofr.non_cash.joint_appraiser",
    "rofr.sale_window",
)
def open_election(ctx: Ctx, step: Step) -> None:
    """Entering ``election_window``: the company's time to elect, and the windows that run from
    the notice (the owner's sale limit, valuing a non-cash price)."""
    rofr, notice = ctx.rofr, ctx.data["transfer_notice"]
    effective, received = ctx.instant("transfer_notice", "effective_at"), notice["derivation"]
    election = ctx.window_end(rofr.election_window, effective, received)
    scope = (
        "any or all" if rofr.election_scope.value == "any_or_all" else "all, but not less than all,"
    )
    ctx.set_timer(
        step,
        ELECTION,
        election,
        Party.COMPANY,
        f"deliver a notice of exercise for {scope} of the {ctx.data['shares']} shares, or let "
        "the right pass",
    )
    step.event(
        "election_window_opened", deadline=election.as_dict(), scope=rofr.election_scope.value
    )
    if rofr.sale_window.runs_from == "notice_effective":
        ctx.data["deadlines"]["sale_window_limit"] = ctx.window_end(
            rofr.sale_window, effective, received
        ).as_dict()
    if needs_appraisal(ctx):
        nc = rofr.non_cash
        assert nc.agree_value and nc.joint_appraiser
        agree = ctx.window_end(nc.agree_value, effective, received)
        joint = ctx.window_end(nc.joint_appraiser, effective, received)
        ctx.set_timer(
            step,
            VALUE_AGREEMENT,
            agree,
            Party.COMPANY,
            "agree the cash value of the non-cash price with the owner, or go to an appraiser",
        )
        ctx.set_timer(
            step,
            JOINT_APPRAISER,
            joint,
            Party.COMPANY,
            "agree a joint appraiser with the owner, or each side picks one",
        )


@enforces("rofr.notice_review")
def found_insufficient(ctx: Ctx) -> bool:
    """Guard, RD ISO ¶11(c): the notice was found insufficient (else not bona fide)."""
    rejection = ctx.data.get("rejection") or {}
    return bool(rejection.get("ground") == "insufficient_information")


@enforces("rofr.insufficiency_finding_for")
def _insufficiency_open(ctx: Ctx, ground: str) -> None:
    """RD ISO ¶11(c): the company finds the information insufficient "to establish the bona fide
    nature of a proposed voluntary transfer"; an involuntary one can only be found not bona fide."""
    limit = ctx.rofr.insufficiency_finding_for
    kind = ctx.data.get("transfer_type", "sale")
    if ground == "insufficient_information" and limit and kind not in limit.value:
        raise Refused(
            limit.clause,
            f"a finding of insufficient information is for a proposed voluntary transfer, not "
            f"for this {kind} transfer; the company may still find it not bona fide",
        )


@enforces("rofr.notice_review", "rofr.recording_needs_approval")
def reject_transfer_notice(ctx: Ctx, cmd: c.RejectTransferNotice) -> Step:
    review = ctx.rofr.notice_review
    if not review.value:
        raise Refused(review.clause, "these terms give the company no review of the notice")
    ground = cmd.ground
    _insufficiency_open(ctx, ground)
    if ctx.state == "transfer_pending_approval":
        # RD ISO ¶11(e): the books record the transfer only once the company has approved it as
        # bona fide; it may instead find it was not, and then the transfer is not permitted.
        approval = ctx.rofr.recording_needs_approval
        if ground != "not_bona_fide":
            raise Refused(
                approval.clause,
                "the sale has been reported: demand assurances that it was carried out as the "
                "notice described, or find it not bona fide",
            )
        review = approval
    reason = cmd.reason
    eff = ctx.notice("non_compliance_notice", review.clause, cmd.notice)
    record = eff.record(ctx.party, ctx.owner_notice_party())
    step = Step("reject_notice")
    step.cancel_timers.extend(ALL_TIMERS)
    ctx.data["rejection"] = {
        "ground": ground,
        "reason": reason,
        "notice": record,
        "by": ctx.actor_record(),
    }
    kind = (
        "transfer_notice_found_insufficient"
        if ground == "insufficient_information"
        else "transfer_found_not_bona_fide"
    )
    step.event(kind, ground=ground, reason=reason, clause=review.clause, notice=record)
    return step
