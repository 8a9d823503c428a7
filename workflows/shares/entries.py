"""What every entry of the register shares: holders, numbers, signatures, surrender, the count
of holders of record, and the acts of other workflows recorded once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.shares.commands import HolderGiven, Signature, Source, Surrendered
from workflows.shares.context import Ctx, Step
from workflows.shares.register import holders_of_record

Cert = dict[str, Any]


def record_holder(ctx: Ctx, given: HolderGiven, at: datetime) -> dict[str, Any]:
    """The holder's record: names and addresses of all shareholders (BYL Art. V §9, Art. VI
    §1), so a holder first recorded must come with both."""
    known = ctx.holders.get(given.id)
    if known is None:
        if not given.name or not given.address:
            raise Refused(
                ctx.clause,
                f"holder {given.id} is not on the register yet: give their name and address",
                "invalid_payload",
            )
        known = {
            "name": given.name,
            "address": given.address,
            "address_since": at.isoformat(),
            "recorded_at": at.isoformat(),
            "former_addresses": [],
        }
        ctx.holders[given.id] = known
    elif given.address and given.address != known["address"]:
        move_address(known, given.address, at)
    return known


def move_address(holder: dict[str, Any], address: str, at: datetime) -> None:
    former = {
        "address": holder["address"],
        "since": holder["address_since"],
        "until": at.isoformat(),
    }
    holder["former_addresses"] = [*holder.get("former_addresses", []), former]
    holder["address"], holder["address_since"] = address, at.isoformat()


@enforces("share_register.signatures")
def signatures(ctx: Ctx, given: Sequence[Signature] | None) -> list[dict[str, str]]:
    """BYL Art. VIII §1: one officer of each group signs (facsimiles allowed, so the register's
    own signing officers serve when a command names none)."""
    found = (
        [s.model_dump() for s in given] if given is not None else ctx.data.get("signatures") or []
    )
    rule = ctx.reg.signatures
    if rule is None:
        return found
    titles = {s["title"] for s in found}
    for group, which in ((rule.first, "first"), (rule.second, "second")):
        if not titles & set(group):
            raise Refused(
                rule.clause,
                f"a certificate is signed by one of {', '.join(group)} "
                f"({which} signature); signed by: {', '.join(sorted(titles)) or 'no one'}",
                "unsigned",
            )
    return found


def number(ctx: Ctx, given: str | None) -> str:
    """``given``, unused, or the register's next number."""
    if given is not None:
        if given in ctx.certificates:
            raise Refused(
                ctx.clause, f"certificate {given} is already on the register", "duplicate_number"
            )
        if given.isdigit() and int(given) >= ctx.data["next_number"]:
            ctx.data["next_number"] = int(given) + 1
        return given
    n = ctx.data["next_number"]
    while str(n) in ctx.certificates:
        n += 1
    ctx.data["next_number"] = n + 1
    return str(n)


def issue(ctx: Ctx, step: Step, cert: Cert) -> Cert:
    """Enter a new certificate (number, holder, shares and class, date: BYL Art. V §9)."""
    if cert["share_class"] not in ctx.data["share_classes"]:
        raise Refused(
            ctx.clause,
            f"no class {cert['share_class']!r} on the register; its classes: "
            f"{', '.join(ctx.data['share_classes'])}",
            "invalid_payload",
        )
    ctx.certificates[cert["number"]] = cert
    step.event("share_certificate_issued", certificate=cert, clause=ctx.clause)
    return cert


def outstanding_certificate(ctx: Ctx, number: str, rule: str) -> Cert:
    cert = ctx.certificates.get(number)
    if cert is None:
        raise Refused(rule, f"no certificate {number} on the register", "unknown_certificate")
    if cert.get("cancelled"):
        c = cert["cancelled"]
        raise Refused(
            rule,
            f"certificate {number} was cancelled {c['at']} ({c['reason']})",
            "cancelled_certificate",
        )
    return cert


@enforces("share_register.surrender")
def surrender(ctx: Ctx, given: Sequence[Surrendered], at: datetime) -> list[Cert]:
    """BYL Art. VIII §2: the transfer is recorded upon surrender of the certificate, duly
    endorsed or accompanied by proper evidence of succession, assignment or authority."""
    rule = ctx.reg.surrender
    if not given:
        raise Refused(
            rule.required.clause,
            "a transfer is recorded only on surrender of the old "
            "certificate: name the certificates surrendered",
            "surrender_required",
        )
    numbers = [s.number for s in given]
    if len(set(numbers)) < len(numbers):
        raise Refused(rule.required.clause, "a certificate is surrendered once", "invalid_payload")
    certs = []
    for s in given:
        cert = outstanding_certificate(ctx, s.number, rule.required.clause)
        endorse(ctx, s.number, s.endorsement)
        if cert.get("lost"):
            raise Refused(
                rule.required.clause,
                f"certificate {s.number} is claimed "
                f"{cert['lost']['how']}: it is replaced, not transferred",
                "claimed_lost",
            )
        if datetime.fromisoformat(cert["issued_at"]) > at:
            raise Refused(
                rule.required.clause,
                f"certificate {s.number} was issued {cert['issued_at']}, after the act",
                "invalid_payload",
            )
        certs.append(cert)
    holders = {c["holder"] for c in certs}
    classes = {c["share_class"] for c in certs}
    if len(holders) > 1 or len(classes) > 1:
        raise Refused(
            rule.required.clause,
            "the certificates surrendered are of one holder and one class",
            "invalid_payload",
        )
    return certs


def endorse(ctx: Ctx, number: str, endorsement: str | None) -> None:
    rule = ctx.reg.surrender
    if endorsement is None and rule.required.value:
        raise Refused(
            rule.required.clause,
            f"certificate {number} is surrendered duly endorsed or "
            "with proper evidence of authority to transfer",
            "surrender_required",
        )
    if endorsement is not None and endorsement not in rule.endorsements.value:
        raise Refused(
            rule.endorsements.clause,
            f"{endorsement} is not a form these terms accept; "
            f"accepted: {', '.join(rule.endorsements.value)}",
            "not_endorsed",
        )


def cancel(ctx: Ctx, step: Step, cert: Cert, at: datetime, reason: str, **more: Any) -> None:
    """The number and date of cancellation of every certificate surrendered (BYL Art. V §9)."""
    cert["cancelled"] = {"at": at.isoformat(), "reason": reason, **more}
    step.event(
        "share_certificate_cancelled",
        number=cert["number"],
        holder=cert["holder"],
        shares=cert["shares"],
        cancelled=cert["cancelled"],
        clause=ctx.clause,
    )


def once(ctx: Ctx, source: Source | None, what: str) -> str | None:
    """An act of another workflow is recorded once, whatever message carries it again."""
    if source is None:
        return None
    return once_key(ctx, f"{source.workflow_type}:{source.workflow_id}", what)


def once_key(ctx: Ctx, key: str, what: str) -> str:
    """The act ``key`` names, recorded once as ``what``."""
    recorded = (ctx.data.get("sources") or {}).get(key)
    if recorded is not None:
        raise Refused(ctx.clause, f"{key} is already recorded: {recorded}", "already_recorded")
    ctx.data.setdefault("sources", {})[key] = what
    return key


def counted(ctx: Ctx, step: Step, before: int) -> None:
    """Say when the number of holders of record changes (FMP §6(d)(vi)(1) reads it)."""
    after = holders_of_record(ctx.data)
    if after != before:
        step.event("holders_of_record_changed", before=before, after=after, clause=ctx.clause)


def before(ctx: Ctx) -> int:
    return holders_of_record(ctx.data)
