"""The owner's notice of a proposed transfer, and the company's finding that it falls short.

FMP §6(d)(ii): a Disposition Notice to the Secretary with the bona fide offer's basic terms,
incl. the price, and satisfactory proof that the sale would not contravene §6(b), (c), (g), (h).
RD ISO ¶11(b): a Transfer Notice describing the transfer fully (shares, the Proposed
Transferee's name and address, the price if voluntary, evidence it is bona fide), one per
transferee, signed by the optionee and the transferee. RD ISO ¶11(c): the company may find it
insufficient (no transfer until the procedure is followed) or not bona fide (no transfer).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from workflows.kernel import Party, Refused
from workflows.kit import readers as p
from workflows.kit.clauses import enforces
from workflows.notices import EffectiveNotice
from workflows.rofr.context import ALL_TIMERS, ELECTION, JOINT_APPRAISER, VALUE_AGREEMENT, Ctx, Step
from workflows.rofr.valued import needs_appraisal


@enforces(
    "rofr.notice_name",
    "rofr.requirements.one_notice_per_transferee",
    "rofr.requirements.transferee_address",
)
def _transferees(ctx: Ctx, rule: str) -> list[dict[str, str]]:
    req = ctx.rofr.requirements
    raw: Any = ctx.payload.get("transferees")
    if raw is None:
        raw = [p.mapping(ctx.payload, "transferee", rule)]
    if not isinstance(raw, list) or not raw or not all(isinstance(t, Mapping) for t in raw):
        raise Refused(
            rule, "payload.transferee must name the proposed transferee", "invalid_payload"
        )
    if len(raw) > 1 and req.one_notice_per_transferee.value:
        names = ", ".join(str(t.get("name")) for t in raw)
        raise Refused(
            req.one_notice_per_transferee.clause,
            f"one {ctx.rofr.notice_name.value} per proposed transferee: send a separate "
            f"notice to each of {names}",
        )
    out = []
    for t in raw:
        entry = {"name": p.text(t, "name", rule, "payload.transferee.")}
        if req.transferee_address.value:
            entry["address"] = p.text(
                t, "address", req.transferee_address.clause, "payload.transferee."
            )
        elif p.optional_text(t, "address"):
            entry["address"] = p.optional_text(t, "address")
        out.append(entry)
    return out


@enforces(
    "rofr.non_cash",
    "rofr.requirements.price_required_for",
    "rofr.requirements.price_when_absent",
)
def _consideration(ctx: Ctx, transfer_type: str, rule: str) -> tuple[dict[str, str], str]:
    req = ctx.rofr.requirements
    raw = ctx.payload.get("consideration") or {}
    if not isinstance(raw, Mapping):
        raise Refused(rule, "payload.consideration must be an object", "invalid_payload")
    form = raw.get("form", "cash")
    if form not in ("cash", "indebtedness", "property"):
        raise Refused(
            rule,
            "payload.consideration.form must be cash, indebtedness or property",
            "invalid_payload",
        )
    out = {"form": str(form)}
    for key in ("price_per_share", "total"):
        value = p.optional_amount(raw, key, rule, "payload.consideration.")
        if value is not None:
            out[key] = str(value)
    if form == "property":
        out["description"] = p.text(
            raw, "description", ctx.rofr.non_cash.clause, "payload.consideration."
        )
    if transfer_type not in req.price_required_for.value and req.price_when_absent is not None:
        # RD ISO ¶11(b): a gift's or involuntary transfer's price "shall be deemed" the fair
        # market value the Company determines in good faith; a price the notice states is kept
        # for the record but is not the price.
        return out, req.price_when_absent.value
    if "price_per_share" in out or "total" in out or form == "property":
        return out, "stated"
    if transfer_type in req.price_required_for.value:
        raise Refused(
            req.price_required_for.clause,
            f"a {transfer_type} notice must state the proposed price "
            "(payload.consideration.price_per_share or .total)",
        )
    if req.price_when_absent is None:
        raise Refused(rule, "the notice must state the proposed price")
    return out, req.price_when_absent.value


@enforces(
    "rofr.escrow",
    "rofr.notice_name",
    "rofr.requirements.binding_commitment",
    "rofr.requirements.bona_fide_evidence",
    "rofr.requirements.compliance_proof",
    "rofr.requirements.no_transfer_while_subject_to_repurchase",
    "rofr.requirements.signatures",
)
def _check_contents(ctx: Ctx, transfer_type: str, rule: str) -> None:
    req = ctx.rofr.requirements
    if req.compliance_proof.value:
        p.text(ctx.payload, "compliance_proof", req.compliance_proof.clause)
    if req.bona_fide_evidence.value and transfer_type != "involuntary":
        p.text(ctx.payload, "bona_fide_evidence", req.bona_fide_evidence.clause)
    signers = {str(s["party"]) for s in ctx.payload.get("signed_by") or []}
    missing = [str(s) for s in req.signatures.value if str(s) not in signers]
    if missing:
        raise Refused(
            req.signatures.clause,
            f"the {ctx.rofr.notice_name.value} must be signed by "
            f"{' and '.join(str(s) for s in req.signatures.value)}; "
            f"missing: {', '.join(missing)} (payload.signed_by: party and name of each signer)",
        )
    binding = req.binding_commitment
    if binding and binding.value and not p.flag(ctx.payload, "binding_commitment", rule):
        raise Refused(
            binding.clause,
            f"the {ctx.rofr.notice_name.value} must be a binding commitment of the owner and the "
            "proposed transferee to the transfer, subject only to the right: confirm "
            "payload.binding_commitment",
        )
    blocked = req.no_transfer_while_subject_to_repurchase
    if blocked and blocked.value and p.flag(ctx.payload, "subject_to_repurchase_right", rule):
        raise Refused(
            blocked.clause,
            "shares still subject to the Repurchase Right may not be transferred at all",
        )
    if p.flag(ctx.payload, "shares_in_escrow", rule) and ctx.rofr.escrow is None:
        raise Refused(rule, f"these terms ({ctx.terms.id}) have no escrow of shares")


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


@enforces("rofr.partial_exercise.owner_choice")
def _date_on_notice(ctx: Ctx, eff: EffectiveNotice, rule: str) -> date | None:
    """The date written on the notice (FMP §6(d)(v) counts the owner's choice from it)."""
    pe = ctx.rofr.partial_exercise
    clause = pe.owner_choice.clause if pe else rule
    dated = p.optional_day(ctx.payload["notice"], "dated", clause, "payload.notice.")
    given = eff.deposited_at or eff.delivered_at
    if dated is not None and given is not None and dated > ctx.cal.local_date(given):
        raise Refused(
            clause,
            f"the notice is dated {dated}, after it was "
            f"{'mailed' if eff.deposited_at else 'delivered'} on {ctx.cal.local_date(given)}: "
            "give the date written on the notice (the owner's time to choose runs from it)",
            "invalid_payload",
        )
    return dated


def _day_given(ctx: Ctx, eff: EffectiveNotice) -> date:
    # An undated notice's "date" is the day it was sent: the day of deposit for mail, not the
    # later day it took effect (FMP §6(d)(v) counts from the notice's date, not its receipt).
    return ctx.cal.local_date(eff.deposited_at or eff.delivered_at or eff.at)


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
def deliver_transfer_notice(ctx: Ctx) -> Step:
    rofr, req = ctx.rofr, ctx.rofr.requirements
    rule = rofr.notice_name.clause
    holder = p.text(ctx.payload, "holder", rule)
    if ctx.data.get("holder") not in (None, holder):
        raise Refused(
            rule,
            f"this transfer is {ctx.data['holder']}'s; a notice for another holder "
            "starts its own workflow",
        )
    transfer_type = ctx.payload.get("transfer_type", "sale")
    if transfer_type not in req.transfer_types.value:
        raise Refused(
            req.transfer_types.clause,
            f"transfer_type {transfer_type!r} is not one these terms provide a notice "
            f"for ({', '.join(req.transfer_types.value)})",
        )
    shares = p.count(ctx.payload, "shares", rule)
    transferees = _transferees(ctx, rule)
    consideration, price_basis = _consideration(ctx, transfer_type, rule)
    _check_contents(ctx, transfer_type, rule)
    eff = ctx.notice("transfer_notice", rule)
    dated = _date_on_notice(ctx, eff, rule)
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
        escrow=bool(ctx.payload.get("shares_in_escrow")),
        transfer_notice=record,
        notice_dated=(dated or _day_given(ctx, eff)).isoformat(),
        notice_dated_from="the date on the notice"
        if dated
        else f"undated: taken as the day it was given; {eff.derivation}",
        elections=[],
        elected_shares=0,
        assignees=ctx.data.get("assignees", []),
        deadlines={},
    )
    for key in (
        "compliance_proof",
        "bona_fide_evidence",
        "signed_by",
        "binding_commitment",
        "holder_name",
        "certificates",
    ):
        if key in ctx.payload:
            ctx.data[key] = ctx.payload[key]
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
    received = eff.derivation
    election = ctx.window_end(rofr.election_window, eff.at, received)
    scope = (
        "any or all" if rofr.election_scope.value == "any_or_all" else "all, but not less than all,"
    )
    ctx.set_timer(
        step,
        ELECTION,
        election,
        Party.COMPANY,
        f"deliver a notice of exercise for {scope} of the {shares} shares, or let the right pass",
    )
    step.event(
        "election_window_opened", deadline=election.as_dict(), scope=rofr.election_scope.value
    )
    if rofr.sale_window.runs_from == "notice_effective":
        ctx.data["deadlines"]["sale_window_limit"] = ctx.window_end(
            rofr.sale_window, eff.at, received
        ).as_dict()
    ctx.data["valuation"] = None
    if consideration["form"] == "property":
        ctx.data["valuation"] = {"method": rofr.non_cash.method, "stage": "negotiating"}
    if needs_appraisal(ctx):
        nc = rofr.non_cash
        assert nc.agree_value and nc.joint_appraiser
        agree = ctx.window_end(nc.agree_value, eff.at, received)
        joint = ctx.window_end(nc.joint_appraiser, eff.at, received)
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
    return step


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
def reject_transfer_notice(ctx: Ctx) -> Step:
    review = ctx.rofr.notice_review
    if not review.value:
        raise Refused(review.clause, "these terms give the company no review of the notice")
    ground = p.choice(
        ctx.payload, "ground", review.clause, ("insufficient_information", "not_bona_fide")
    )
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
    reason = p.text(ctx.payload, "reason", review.clause)
    eff = ctx.notice("non_compliance_notice", review.clause)
    record = eff.record(ctx.party, ctx.owner_notice_party())
    step = Step(
        "find_insufficient" if ground == "insufficient_information" else "find_not_bona_fide"
    )
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
