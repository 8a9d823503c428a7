"""A certificate lost, stolen or destroyed, replaced on the terms an officer requires, including
indemnity secured by a bond or other adequate security (BYL Art. VIII §3)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.shares import commands as c
from workflows.shares import entries as e
from workflows.shares.context import Ctx, Step
from workflows.terms.share_register import LostCertificateTerms


def _rule(ctx: Ctx) -> LostCertificateTerms:
    rule = ctx.reg.lost_certificates
    if rule is None:
        raise Refused(
            ctx.clause,
            f"these terms ({ctx.terms.id}) provide no replacement of a lost "
            "certificate: the Company's bylaws would say how",
            "not_provided",
        )
    return rule


def _claimed(ctx: Ctx, number: str, rule: LostCertificateTerms) -> dict[str, Any]:
    cert = e.outstanding_certificate(ctx, number, rule.clause)
    if not cert.get("lost"):
        raise Refused(
            rule.clause,
            f"certificate {number} is not claimed lost, stolen or "
            "destroyed: claim_lost_certificate first",
            "wrong_state",
        )
    return cert


@enforces("share_register.lost_certificates")
def claim_lost_certificate(ctx: Ctx) -> Step:
    rule = _rule(ctx)
    cmd = ctx.typed(c.ClaimLostCertificate)
    at = ctx.past(cmd.claimed_at, "claimed_at")
    cert = e.outstanding_certificate(ctx, cmd.number, rule.clause)
    if cert.get("lost"):
        raise Refused(
            rule.clause,
            f"certificate {cmd.number} is already claimed {cert['lost']['how']}",
            "already_recorded",
        )
    cert["lost"] = {
        "how": cmd.how,
        "claimed_at": at.isoformat(),
        "affidavit": cmd.affidavit,
        "claimed_by": ctx.actor_record(),
    }
    step = Step("claim_lost")
    step.event(
        "certificate_claimed_lost",
        number=cmd.number,
        holder=cert["holder"],
        how=cmd.how,
        claimed_at=at.isoformat(),
        clause=rule.clause,
    )
    return step


@enforces("share_register.lost_certificates")
def require_replacement_terms(ctx: Ctx) -> Step:
    """The terms of the replacement are those the president, a vice president, the CFO or the
    secretary requires; an indemnity bond only if they require one."""
    rule = _rule(ctx)
    cmd = ctx.typed(c.RequireReplacementTerms)
    at = ctx.past(cmd.required_at, "required_at")
    cert = _claimed(ctx, cmd.number, rule)
    if cmd.required_by.title not in rule.officers:
        raise Refused(
            rule.clause,
            f"the terms of a replacement are set by the "
            f"{', '.join(rule.officers)}; not the {cmd.required_by.title}",
            "not_authorised",
        )
    if cmd.security != "none" and cmd.security not in rule.security:
        raise Refused(
            rule.clause, f"security is one of {', '.join(rule.security)}", "invalid_payload"
        )
    if cmd.security != "none" and cmd.amount is None:
        raise Refused(
            rule.clause,
            "a bond or other security is sufficient to protect the Company: state its amount",
            "invalid_payload",
        )
    terms = {
        "required_by": cmd.required_by.model_dump(),
        "security": cmd.security,
        "amount": f"{cmd.amount:f}" if cmd.amount is not None else None,
        "conditions": cmd.conditions,
        "required_at": at.isoformat(),
    }
    cert["lost"] = {**cert["lost"], "terms": terms}
    step = Step("require_terms")
    step.event("replacement_terms_required", number=cmd.number, terms=terms, clause=rule.clause)
    return step


def _secured(
    rule: LostCertificateTerms, required: dict[str, Any], given: c.SecurityGiven | None
) -> dict[str, str] | None:
    kind, amount = required["security"], required["amount"]
    if kind == "none":
        return given.model_dump(mode="json") if given else None
    if given is None:
        raise Refused(
            rule.clause,
            f"the replacement is conditioned on indemnity secured by a "
            f"{str(kind).replace('_', ' ')} of {amount}: none given",
            "security_required",
        )
    if kind == "bond" and given.kind != "bond":
        raise Refused(rule.clause, "the officer required a bond", "security_required")
    if given.amount < Decimal(str(amount)):
        raise Refused(
            rule.clause,
            f"the security of {given.amount:f} is below the {amount} required",
            "security_required",
        )
    return given.model_dump(mode="json")


@enforces("share_register.lost_certificates")
def replace_lost_certificate(ctx: Ctx) -> Step:
    rule = _rule(ctx)
    cmd = ctx.typed(c.ReplaceLostCertificate)
    at = ctx.past(cmd.replaced_at, "replaced_at")
    old = _claimed(ctx, cmd.number, rule)
    lost = old["lost"]
    required = lost.get("terms") if isinstance(lost, dict) else None
    if not required:
        raise Refused(
            rule.clause,
            f"a replacement is issued on the terms an officer "
            f"({', '.join(rule.officers)}) requires: require_replacement_terms first",
            "wrong_state",
        )
    security = _secured(rule, required, cmd.security)
    if at < datetime.fromisoformat(required["required_at"]):
        raise Refused(
            rule.clause, "payload.replaced_at is before the terms were required", "invalid_payload"
        )
    step = Step("replace")
    new = {
        "number": e.number(ctx, cmd.new_number),
        "holder": old["holder"],
        "shares": old["shares"],
        "share_class": old["share_class"],
        "issued_at": at.isoformat(),
        "legends": old.get("legends") or [],
        "signatures": e.signatures(ctx, cmd.signatures),
        "origin": {"kind": "replacement", "from": [old["number"]]},
        "escrow_agent": old.get("escrow_agent"),
    }
    if old.get("watch"):  # RD ISO ¶14: the replacement is the same shares
        new["watch"] = old["watch"]
    e.cancel(
        ctx,
        step,
        old,
        at,
        f"replaced_as_{lost['how']}",
        replaced_by=[new["number"]],
        security=security,
    )
    e.issue(ctx, step, new)
    step.event(
        "lost_certificate_replaced",
        number=old["number"],
        replacement=new["number"],
        security=security,
        clause=rule.clause,
    )
    return step
