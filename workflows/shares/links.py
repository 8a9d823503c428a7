"""What other workflows record in the register: internal commands, sent through the engine by
the system party (``workflows.kernel.Send``, ``company_one``), each naming its sender's act.

The sender is the command's actor (its workflow type and id), the act its ``payload.act``:
``<type>:<id>:<act>`` is recorded once (``sources``), so the same act carried again, under any
message id, is refused ``already_recorded``. An act the ROFR holds void (FMP §6(i): "null and
void ab initio"; RD ISO ¶11(f): void) is never shown as a valid transfer: recorded before, it
is reversed as of its effective time (the certificates it issued never outstanding, those it
cancelled outstanding again); arriving after, it is refused (``voided``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.shares import commands as c
from workflows.shares import entries as e
from workflows.shares import issuance, transfer, watch
from workflows.shares.context import Ctx, Step
from workflows.shares.register import _order, outstanding

Cert = dict[str, Any]


def _key(ctx: Ctx, act: str) -> str:
    a = ctx.actor
    assert a is not None  # the kit admits an internal command only from the system party
    return f"{a.name}:{a.reference}:{act}"


def _not_void(ctx: Ctx, key: str) -> None:
    void = (ctx.data.get("voided") or {}).get(key)
    if void is not None:
        raise Refused(
            void["clause"],
            f"{key} is void ({void['reason']}): it is never recorded as a transfer",
            "void_transfer",
        )


def record_exercise_issuance(ctx: Ctx) -> Step:
    """The certificate an exercise issued (FMP §4(b), RD ISO ¶4(e)), with its watch (¶14)."""
    cmd = ctx.typed(c.RecordExerciseIssuance)
    key = _key(ctx, cmd.act)
    given = c.IssueShareCertificate(
        number=cmd.number,
        holder=cmd.holder,
        shares=cmd.shares,
        share_class=cmd.share_class,
        issued_at=cmd.issued_at,
        legends=cmd.legends,
        escrow_agent=cmd.escrow_agent,
    )
    w = cmd.watch
    kept = (
        None
        if w is None
        else {**w.model_dump(mode="json"), "exercise": ctx.actor_record()["reference"]}
    )
    return issuance.issue(ctx, given, lambda n: e.once_key(ctx, key, f"certificate {n}"), kept)


@enforces("share_register.surrender")
def _surrendered(
    ctx: Ctx, holder: str, given: list[str] | None, shares: int, at: datetime
) -> list[str]:
    """The certificates the ROFR's Owner surrenders: those it names, else the holder's
    outstanding ones, lowest number first, until they cover the shares (judgment call: the
    ROFR's completion is the delivery of the endorsed certificates, FMP §6(d)(iii))."""
    rule = ctx.reg.surrender.required.clause
    if given:
        for n in given:
            cert = ctx.certificates.get(n)
            if cert is not None and cert["holder"] != holder:
                raise Refused(
                    rule,
                    f"certificate {n} is {cert['holder']}'s, not {holder}'s",
                    "invalid_payload",
                )
        return given
    mine = [
        cert
        for cert in ctx.certificates.values()
        if cert["holder"] == holder and outstanding(cert, at) and not cert.get("lost")
    ]
    picked, covered = [], 0
    for cert in sorted(mine, key=lambda x: _order(x["number"])):
        if covered >= shares:
            break
        picked.append(cert["number"])
        covered += cert["shares"]
    if covered < shares:
        raise Refused(
            rule,
            f"{holder} holds {covered:,} shares of record at {at.isoformat()}, fewer than the "
            f"{shares:,} transferred",
            "insufficient_shares",
        )
    return picked


def record_rofr_transfer(ctx: Ctx) -> Step:
    """A transfer the ROFR completed, on the certificates surrendered (BYL Art. VIII §2)."""
    cmd = ctx.typed(c.RecordRofrTransfer)
    key = _key(ctx, cmd.act)
    _not_void(ctx, key)
    at = ctx.past(cmd.effective_at, "effective_at")
    numbers = _surrendered(ctx, cmd.holder, cmd.certificates, cmd.shares, at)
    carried = {
        g["key"] for n in numbers for g in (ctx.certificates.get(n) or {}).get("legends") or []
    }
    release = (
        [k for k in ctx.reg.releasable_legends.value if k in carried] if cmd.free_and_clear else []
    )
    given = c.RecordShareTransfer(
        surrendered=[
            c.Surrendered(number=n, endorsement=cmd.endorsement, endorsed_by=cmd.holder)
            for n in numbers
        ],
        transferee=cmd.transferee,
        shares=cmd.shares,
        effective_at=cmd.effective_at,
        release_legends=release,
    )
    return transfer.transfer(ctx, given, e.once_key(ctx, key, "transfer"))


def record_rofr_repurchase(ctx: Ctx) -> Step:
    """The Company's purchase at the ROFR's closing: each certificate surrendered is cancelled
    (``purchased_by_company``), the balance of the last reissued to the holder (BYL Art. V §9)."""
    cmd = ctx.typed(c.RecordRofrRepurchase)
    key = _key(ctx, cmd.act)
    _not_void(ctx, key)
    at = ctx.past(cmd.effective_at, "effective_at")
    numbers = _surrendered(ctx, cmd.holder, cmd.certificates, cmd.shares, at)
    source = e.once_key(ctx, key, "purchase by the company")
    left, step = cmd.shares, Step("cancel")
    for n in numbers:
        cert = e.outstanding_certificate(ctx, n, ctx.reg.surrender.required.clause)
        taken = min(left, cert["shares"])
        if taken <= 0:
            break
        left -= taken
        given = c.CancelShareCertificate(
            number=n,
            endorsement="endorsed",
            endorsed_by=cmd.holder,
            shares=taken,
            reason="purchased_by_company",
            cancelled_at=cmd.effective_at,
        )
        step.events += transfer.take(ctx, given, source).events
    if left:
        raise Refused(
            ctx.reg.surrender.required.clause,
            f"the certificates surrendered are for {cmd.shares - left:,} shares, fewer than "
            f"{cmd.shares:,}",
            "insufficient_shares",
        )
    return step


def void_rofr_transfer(ctx: Ctx) -> Step:
    """The ROFR holds its act void: reversed as of its effective time if recorded, blocked if
    not yet (messages between workflows arrive in any order)."""
    cmd = ctx.typed(c.VoidRofrTransfer)
    key = _key(ctx, cmd.act)
    voided = ctx.data.setdefault("voided", {})
    if key in voided:
        raise Refused(cmd.clause, f"{key} is already held void", "already_recorded")
    void = {"clause": cmd.clause, "reason": cmd.reason, "at": ctx.now.isoformat()}
    voided[key] = void
    count, step = e.before(ctx), Step("void")
    transfers = [t for t in ctx.data.get("transfers") or [] if t.get("source") == key]
    cancels = [
        cert
        for cert in ctx.certificates.values()
        if (cert.get("cancelled") or {}).get("source") == key
    ]
    if not transfers and not cancels:
        step.event("share_transfer_blocked", source=key, clause=cmd.clause, reason=cmd.reason)
        return step
    for t in transfers:
        _undo(ctx, step, [ctx.certificates[n] for n in t["surrendered"]], t["issued"], void)
        t["void"] = void
        step.event("share_transfer_voided", transfer=t, clause=cmd.clause, reason=cmd.reason)
        watch.withdraw(step, t.get("dispositions") or [], cmd.clause, cmd.reason)
    for cert in cancels:
        done = cert["cancelled"]
        _undo(ctx, step, [cert], done.get("replaced_by") or [], void)
        step.event(
            "share_cancellation_voided", number=cert["number"], cancelled=done,
            clause=cmd.clause, reason=cmd.reason,
        )  # fmt: skip
        watch.withdraw(step, done.get("dispositions") or [], cmd.clause, cmd.reason)
    e.counted(ctx, step, count)
    return step


def _undo(
    ctx: Ctx, step: Step, surrendered: list[Cert], issued: list[str], void: dict[str, Any]
) -> None:
    """The certificates ``issued`` never outstanding (cancelled as of their issue), those
    ``surrendered`` outstanding again; refused if a certificate issued has moved on since."""
    for n in issued:
        cert = ctx.certificates[n]
        if cert.get("cancelled"):
            raise Refused(
                void["clause"],
                f"certificate {n}, issued by the void act, was cancelled since "
                f"({cert['cancelled']['reason']}): the company reconciles it on the register",
                "transferred_since",
            )
    for n in issued:
        cert = ctx.certificates[n]
        cert["cancelled"] = {"at": cert["issued_at"], "reason": "void_transfer", "void": void}
        step.event(
            "share_certificate_cancelled",
            number=n,
            holder=cert["holder"],
            shares=cert["shares"],
            cancelled=cert["cancelled"],
            clause=void["clause"],
        )
    for cert in surrendered:
        was = cert.pop("cancelled")
        cert["restored"] = {**void, "cancellation": was}
        step.event(
            "share_certificate_restored",
            number=cert["number"],
            holder=cert["holder"],
            shares=cert["shares"],
            clause=void["clause"],
        )
