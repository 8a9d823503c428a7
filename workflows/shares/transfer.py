"""A transfer recorded on surrender of the old certificate, and a certificate cancelled when the
Company takes its shares (BYL Art. V §9, Art. VIII §2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.shares import commands as c
from workflows.shares import entries as e
from workflows.shares import watch
from workflows.shares.context import Ctx, Step


@enforces("share_register.releasable_legends")
def _legends(ctx: Ctx, certs: list[dict[str, Any]], release: list[str]) -> list[dict[str, Any]]:
    """The old certificates' legends go onto the new one (RD ISO ¶15: the Commissioner's
    legend "upon any transfer"), except those the terms let a transfer release."""
    carried = {legend["key"]: legend for cert in certs for legend in cert.get("legends") or []}
    allowed = ctx.reg.releasable_legends
    for key in release:
        if key not in allowed.value:
            raise Refused(
                allowed.clause,
                f"the {key} legend stays on the new certificate; "
                f"releasable: {', '.join(allowed.value) or 'none'}",
                "legend_required",
            )
        if key not in carried:
            raise Refused(
                allowed.clause,
                f"no {key} legend on the certificates surrendered",
                "invalid_payload",
            )
    return [legend for key, legend in carried.items() if key not in release]


def _balance(
    ctx: Ctx,
    step: Step,
    certs: list[dict[str, Any]],
    shares: int,
    at: datetime,
    number: str | None,
    sigs: list[dict[str, str]],
    reports: list[dict[str, Any]],
) -> dict[str, Any] | None:
    """The shares surrendered beyond those transferred, on a new certificate to the holder."""
    rest = sum(cert["shares"] for cert in certs) - shares
    if rest < 0:
        raise Refused(
            ctx.reg.surrender.required.clause,
            f"the certificates surrendered are for {rest + shares:,} shares, fewer than {shares:,}",
            "insufficient_shares",
        )
    if rest == 0:
        return None
    first = certs[0]
    legends = list({g["key"]: g for cert in certs for g in cert.get("legends") or []}.values())
    cert = {
        "number": e.number(ctx, number),
        "holder": first["holder"],
        "shares": rest,
        "share_class": first["share_class"],
        "issued_at": at.isoformat(),
        "legends": legends,
        "signatures": sigs,
        "origin": {"kind": "balance", "from": [x["number"] for x in certs]},
        "escrow_agent": first.get("escrow_agent"),
    }
    kept = watch.carried(certs, reports)
    if kept:
        cert["watch"] = kept
    return e.issue(ctx, step, cert)


def record_share_transfer(ctx: Ctx) -> Step:
    """BYL Art. VIII §2: on surrender of the endorsed certificate a new certificate is issued
    to the person entitled, the old one cancelled and the transfer recorded on the books."""
    cmd = ctx.typed(c.RecordShareTransfer)
    seq = len(ctx.data.get("transfers") or []) + 1
    return transfer(ctx, cmd, e.once(ctx, cmd.source, f"transfer {seq}"))


def transfer(ctx: Ctx, cmd: c.RecordShareTransfer, source: str | None) -> Step:
    """The transfer ``cmd`` describes, recorded for ``source`` (the act of another workflow
    it records, or None)."""
    at = ctx.past(cmd.effective_at, "effective_at")
    count = e.before(ctx)
    certs = e.surrender(ctx, cmd.surrendered, at)
    if cmd.number is not None and cmd.number == cmd.balance_number:
        raise Refused(
            ctx.clause, f"certificate {cmd.number} is one certificate, not two", "duplicate_number"
        )
    transferor = certs[0]["holder"]
    sigs = e.signatures(ctx, cmd.signatures)
    legends = _legends(ctx, certs, cmd.release_legends)
    seq = len(ctx.data.get("transfers") or []) + 1
    step = Step("transfer")
    e.record_holder(ctx, cmd.transferee, at)
    new = {
        "number": e.number(ctx, cmd.number),
        "holder": cmd.transferee.id,
        "shares": cmd.shares,
        "share_class": certs[0]["share_class"],
        "issued_at": at.isoformat(),
        "legends": legends,
        "signatures": sigs,
        "origin": {"kind": "transfer", "from": [x["number"] for x in certs], "transfer": seq},
        "source": source,
    }
    reports = watch.report(ctx, step, certs, cmd.shares, at, cmd.transferee.id)
    balance = _balance(ctx, step, certs, cmd.shares, at, cmd.balance_number, sigs, reports)
    issued = [new["number"], *([balance["number"]] if balance else [])]
    by = {s.number: s for s in cmd.surrendered}
    for cert in certs:
        s = by[cert["number"]]
        e.cancel(
            ctx,
            step,
            cert,
            at,
            "transfer",
            transfer=seq,
            replaced_by=issued,
            endorsement=s.endorsement,
            endorsed_by=s.endorsed_by,
        )
    e.issue(ctx, step, new)
    record = {
        "seq": seq,
        "effective_at": at.isoformat(),
        "from": transferor,
        "to": cmd.transferee.id,
        "shares": cmd.shares,
        "share_class": new["share_class"],
        "surrendered": [x["number"] for x in certs],
        "issued": issued,
        "released_legends": cmd.release_legends,
        "source": source,
        "dispositions": reports,
    }
    ctx.data.setdefault("transfers", []).append(record)
    step.event("share_transfer_recorded", transfer=record, clause=ctx.reg.surrender.required.clause)
    e.counted(ctx, step, count)
    return step


def cancel_share_certificate(ctx: Ctx) -> Step:
    """The Company takes the shares (a ROFR closing, FMP §6(d)(iii), RD ISO ¶11(d); a
    repurchase, FMP §6(c)(ii)): the certificate surrendered endorsed and cancelled, any balance
    reissued to the holder (BYL Art. V §9)."""
    cmd = ctx.typed(c.CancelShareCertificate)
    return take(ctx, cmd, e.once(ctx, cmd.source, f"cancellation of certificate {cmd.number}"))


def take(ctx: Ctx, cmd: c.CancelShareCertificate, source: str | None) -> Step:
    """The cancellation ``cmd`` describes, recorded for ``source``."""
    at = ctx.past(cmd.cancelled_at, "cancelled_at")
    count = e.before(ctx)
    given = c.Surrendered(
        number=cmd.number, endorsement=cmd.endorsement or "endorsed", endorsed_by=cmd.endorsed_by
    )
    e.endorse(ctx, cmd.number, cmd.endorsement)
    certs = e.surrender(ctx, [given], at)
    shares = cmd.shares or certs[0]["shares"]
    step = Step("cancel")
    sigs = e.signatures(ctx, cmd.signatures) if shares < certs[0]["shares"] else []
    reports = watch.report(ctx, step, certs, shares, at, "company")
    balance = _balance(ctx, step, certs, shares, at, cmd.balance_number, sigs, reports)
    e.cancel(
        ctx,
        step,
        certs[0],
        at,
        cmd.reason,
        shares_taken=shares,
        source=source,
        endorsement=cmd.endorsement,
        endorsed_by=cmd.endorsed_by,
        replaced_by=[balance["number"]] if balance else [],
        dispositions=reports,
    )
    e.counted(ctx, step, count)
    return step
