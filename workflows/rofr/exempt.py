"""Transfers the right does not reach.

FMP §6(b)(i): a transfer without consideration to the optionee's spouse or issue (incl.
adopted children), by will or intestacy, or in pledge to the Company for purchase-money debt,
is outside the Repurchase Right and the ROFR, *provided* the Company's written consent was
first obtained; FMP §6(b)(ii): each transferee other than the Company must, as a condition
precedent, acknowledge in writing that the shares stay subject to the Agreement; FMP
§6(b)(iii): the transferee becomes an Owner. RD ISO ¶11(g): a transfer in connection with an
Ownership Change is outside the right; Participating Company stock received stays subject.
"""

from __future__ import annotations

from datetime import datetime

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.rofr import commands as c
from workflows.rofr.compliance import transfer_compliance
from workflows.rofr.context import Ctx, Step
from workflows.rofr.recording import record_exempt
from workflows.terms.rofr import ExemptTransfer


@enforces("rofr.exempt_transfers")
def _category(ctx: Ctx) -> ExemptTransfer:
    known: dict[str, ExemptTransfer] = {e.category: e for e in ctx.rofr.exempt_transfers}
    found = known.get(ctx.data.get("exempt_category", ""))
    if found is None:
        raise Refused(ctx.rofr.clause, "no exempt transfer is pending", "wrong_state")
    return found


@enforces("rofr.exempt_transfers")
def propose_exempt_transfer(ctx: Ctx, cmd: c.ProposeExemptTransfer) -> Step:
    rofr = ctx.rofr
    known: dict[str, ExemptTransfer] = {e.category: e for e in rofr.exempt_transfers}
    name = cmd.category
    exempt = known.get(name)
    if exempt is None:
        raise Refused(
            rofr.clause,
            f"{name!r} is not a transfer these terms exempt (exempt: "
            f"{', '.join(known) or 'none'}); deliver a transfer notice instead",
            "not_exempt",
        )
    holder, shares = cmd.holder, cmd.shares
    transferee = cmd.transferee.model_dump(exclude_unset=True)
    if exempt.category == "gift_to_spouse_or_issue":
        relation = cmd.transferee.relationship
        if relation not in ("spouse", "issue", "adopted_child"):
            raise Refused(
                exempt.clause,
                "payload.relationship must be one of spouse, issue, adopted_child; "
                f"got {relation!r}",
                "invalid_payload",
            )
        if not cmd.without_consideration:
            raise Refused(
                exempt.clause,
                "only a transfer without consideration to a spouse or issue is exempt",
                "not_exempt",
            )
    facts: dict[str, object] = {}
    if exempt.category == "pledge_to_company" and not cmd.purchase_money_debt:
        raise Refused(
            exempt.clause,
            "only a pledge to the Company securing the purchase-money debt the optionee took on "
            "to buy these shares is exempt (confirm payload.purchase_money_debt)",
            "not_exempt",
        )
    if exempt.category == "ownership_change":
        # RD ISO ¶8 defines an Ownership Change: (a) a sale or exchange of all or substantially
        # all of the stock, (b) a merger or consolidation, (c) a sale of all or substantially all
        # of the assets, (d) a liquidation or dissolution.
        if cmd.ownership_change is None:
            raise Refused(
                exempt.clause,
                "payload.ownership_change must be one of sale_of_stock, merger, sale_of_assets, "
                "liquidation; got None",
                "invalid_payload",
            )
        facts["ownership_change"] = cmd.ownership_change
    ctx.data.update(
        **facts,
        terms_id=ctx.terms.id,
        family=ctx.terms.family,
        holder=holder,
        shares=shares,
        transferee=transferee,
        exempt_category=exempt.category,
    )
    step = Step("propose_exempt")
    step.event(
        "exempt_transfer_proposed",
        holder=holder,
        shares=shares,
        transferee=transferee,
        category=exempt.category,
        needs_company_consent=exempt.company_consent,
        needs_transferee_acknowledgment=exempt.transferee_acknowledgment,
        clause=exempt.clause,
        **facts,
    )
    return step


def consent_to_transfer(ctx: Ctx, cmd: c.ConsentToTransfer) -> Step:
    exempt = _category(ctx)
    if not exempt.company_consent:
        raise Refused(exempt.clause, "this transfer needs no consent of the company", "wrong_state")
    consented_at = ctx.fact_time("consented_at", cmd.consented_at, exempt.clause)
    ctx.data["consent"] = {"at": consented_at.isoformat(), "by": ctx.actor_record()}
    step = Step("consent")
    step.event(
        "transfer_consented",
        consented_at=consented_at.isoformat(),
        by=ctx.actor_record(),
        clause=exempt.clause,
    )
    return step


def refuse_consent(ctx: Ctx, cmd: c.RefuseConsent) -> Step:
    exempt = _category(ctx)
    if not exempt.company_consent:
        raise Refused(exempt.clause, "this transfer needs no consent of the company", "wrong_state")
    reason = cmd.reason or ""
    step = Step("refuse_exempt")
    step.event(
        "transfer_consent_refused", reason=reason, by=ctx.actor_record(), clause=exempt.clause
    )
    return step


def acknowledge_transfer_terms(ctx: Ctx, cmd: c.AcknowledgeTransferTerms) -> Step:
    exempt = _category(ctx)
    if not exempt.transferee_acknowledgment:
        raise Refused(exempt.clause, "this transferee gives no acknowledgment", "wrong_state")
    at = ctx.fact_time("acknowledged_at", cmd.acknowledged_at, exempt.clause)
    ctx.data["acknowledgment"] = {"at": at.isoformat(), "by": ctx.actor_record()}
    step = Step("acknowledge")
    step.event(
        "transfer_terms_acknowledged",
        acknowledged_at=at.isoformat(),
        by=ctx.actor_record(),
        subject_to=[
            "repurchase right",
            "right of first refusal",
            "market stand-off",
            "securities law and S corporation restrictions",
        ],
        clause=exempt.clause,
    )
    return step


def _unmet(ctx: Ctx, key: str, what: str, transferred_at: datetime) -> str | None:
    """Why the condition ``key`` was not met before the transfer, or None if it was."""
    rec = ctx.data.get(key)
    if not rec:
        return f"{what} has not been recorded"
    given = ctx.instant(key, "at")
    if given <= transferred_at:
        return None
    return (
        f"{what} is dated {ctx.cal.fmt(given)}, after the transfer on {ctx.cal.fmt(transferred_at)}"
    )


def complete_exempt_transfer(ctx: Ctx, cmd: c.CompleteExemptTransfer) -> Step:
    exempt = _category(ctx)
    transferred_at = ctx.fact_time("transferred_at", cmd.transferred_at, exempt.clause)
    if exempt.company_consent:
        why = _unmet(ctx, "consent", "the company's written consent", transferred_at)
        if why:
            raise Refused(
                exempt.clause,
                f"the company's written consent must be obtained before the transfer: {why}",
                "condition_unmet",
            )
    if exempt.transferee_acknowledgment:
        why = _unmet(ctx, "acknowledgment", "the transferee's acknowledgment", transferred_at)
        if why:
            raise Refused(
                exempt.clause,
                "the transferee must first acknowledge in writing that the shares stay subject "
                f"to the agreement; it is a condition of the transfer's validity: {why}",
                "condition_unmet",
            )
    compliance = transfer_compliance(ctx, "exempt_transfer", cmd.compliance)
    if compliance:
        ctx.data["compliance"] = compliance
    stays_subject = cmd.participating_company_stock
    step = Step("complete_exempt")
    step.event(
        "exempt_transfer_completed",
        holder=ctx.data["holder"],
        transferee=ctx.data["transferee"],
        shares=ctx.data["shares"],
        category=exempt.category,
        transferred_at=transferred_at.isoformat(),
        transferee_is_owner=exempt.category in ("gift_to_spouse_or_issue", "will_or_intestacy"),
        consideration_stays_subject=stays_subject,
        clause=exempt.clause,
        **({"compliance": compliance} if compliance else {}),
    )
    record_exempt(ctx, step, exempt.category, exempt.clause, transferred_at.isoformat())
    return step
