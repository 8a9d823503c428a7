"""Opening the register, issuing a certificate and keeping holders' addresses
(BYL Art. V §9, Art. VI §1, Art. VIII §1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.shares import commands as c
from workflows.shares import entries as e
from workflows.shares.context import Ctx, Step


@enforces("share_register")
def open_share_register(ctx: Ctx) -> Step:
    """Open the register the Secretary keeps at the principal executive office, or the
    transfer agent or registrar at its office (BYL Art. V §9, Art. VI §1)."""
    cmd = ctx.typed(c.OpenShareRegister)
    opened = ctx.past(cmd.opened_at, "opened_at")
    ctx.data.update(
        terms_id=ctx.terms.id,
        opened_at=opened.isoformat(),
        kept_by=cmd.kept_by,
        kept_at=cmd.kept_at,
        share_classes=list(dict.fromkeys(cmd.share_classes)),
        next_number=cmd.first_number,
        signatures=[s.model_dump() for s in cmd.signatures],
        holders={},
        certificates={},
        transfers=[],
        sources={},
    )
    if cmd.signatures:
        e.signatures(ctx, cmd.signatures)
    step = Step("open")
    step.event(
        "share_register_opened",
        kept_by=cmd.kept_by,
        kept_at=cmd.kept_at,
        share_classes=ctx.data["share_classes"],
        clause=ctx.clause,
    )
    return step


@enforces("share_register.partly_paid")
def _partly_paid(ctx: Ctx, cmd: c.IssueShareCertificate) -> dict[str, str] | None:
    """BYL Art. VIII §1: issued when fully paid; before full payment only as the Board
    authorizes, stating the consideration and the amount paid on its face."""
    p = cmd.partly_paid
    if p is None:
        return None
    rule = ctx.reg.partly_paid
    if not rule.value:
        raise Refused(
            rule.clause, "a certificate is issued only for shares fully paid", "not_fully_paid"
        )
    if p.paid >= p.consideration:
        raise Refused(rule.clause, "paid in full: issue it without partly_paid", "invalid_payload")
    return {
        "consideration": f"{p.consideration:f}",
        "paid": f"{p.paid:f}",
        "resolution": p.resolution,
        "clause": rule.clause,
    }


def issue_share_certificate(ctx: Ctx) -> Step:
    """Issue a certificate to a holder (on an exercise: FMP §4(b), RD ISO ¶4(e))."""
    cmd = ctx.typed(c.IssueShareCertificate)
    return issue(ctx, cmd, lambda number: e.once(ctx, cmd.source, f"certificate {number}"))


def issue(
    ctx: Ctx,
    cmd: c.IssueShareCertificate,
    source: Callable[[str], str | None],
    watch: dict[str, Any] | None = None,
) -> Step:
    """The certificate ``cmd`` describes; ``source(number)`` records the act it is for."""
    at = ctx.past(cmd.issued_at, "issued_at")
    count = e.before(ctx)
    number = e.number(ctx, cmd.number)
    recorded = source(number)
    e.record_holder(ctx, cmd.holder, at)
    cert = {
        "number": number,
        "holder": cmd.holder.id,
        "shares": cmd.shares,
        "share_class": cmd.share_class,
        "issued_at": at.isoformat(),
        "legends": [legend.model_dump() for legend in cmd.legends],
        "signatures": e.signatures(ctx, cmd.signatures),
        "origin": {"kind": "issued"},
        "partly_paid": _partly_paid(ctx, cmd),
        "escrow_agent": cmd.escrow_agent,
        "source": recorded,
    }
    if watch:
        cert["watch"] = watch
    step = Step("issue")
    e.issue(ctx, step, cert)
    e.counted(ctx, step, count)
    return step


def change_holder_address(ctx: Ctx) -> Step:
    """Keep the holder's address current (BYL Art. VI §1: names and addresses of all
    shareholders); the former address stays on record with its dates."""
    cmd = ctx.typed(c.ChangeHolderAddress)
    at = ctx.past(cmd.changed_at, "changed_at")
    holder = ctx.holders.get(cmd.holder)
    if holder is None:
        raise Refused(ctx.clause, f"no holder {cmd.holder} on the register", "unknown_holder")
    who = ctx.actor.name if ctx.actor else ""
    if ctx.party == "owner" and who and who not in (cmd.holder, holder["name"]):
        raise Refused(ctx.clause, f"{who} may change only their own address", "not_authorised")
    e.move_address(holder, cmd.address, at)
    step = Step("change_address")
    step.event(
        "holder_address_changed",
        holder=cmd.holder,
        address=cmd.address,
        since=at.isoformat(),
        clause=ctx.clause,
    )
    return step
