"""The certificate an exercise issued, recorded in the company's share register with the
disqualifying-disposition watch of an incentive stock option (RD ISO ¶14).

The exercise ends when its certificate issues; the shares live on in the register, where every
later transfer or cancellation of them is recorded. So the watch (the later of one year after
exercise and two years after grant) travels with the certificate, in the internal command the
issuance sends the register (``record_exercise_issuance``, its id derived from the issuing
message): the register keeps it on the certificate and on the balance of any transfer of part,
and reports a disposition within it to the officer the terms name
(``disqualifying_disposition_reported``, ``workflows.shares.watch``).
"""

from __future__ import annotations

from typing import Any

from workflows.exercise import commands as c
from workflows.exercise.context import Ctx, Step
from workflows.kernel import Send

WATCHED = ("ends_on", "notify", "clause", "exercised_on", "granted_on", "derivation")


def _holder(ctx: Ctx, cmd: c.IssueCertificate, registered_in: str) -> dict[str, Any]:
    """The holder of record: the optionee, or the heir or representative the certificate is
    registered to after the optionee's death (RD ISO ¶4(e))."""
    who = ctx.data.get("exercised_by") or {}
    heir = who.get("capacity", "optionee") != "optionee" and who.get("name") == registered_in
    holder = {"id": registered_in if heir else ctx.data.get("optionee") or registered_in}
    holder["name"] = registered_in
    if cmd.holder_address:
        holder["address"] = cmd.holder_address
    return holder


def record_in_register(
    ctx: Ctx,
    step: Step,
    cmd: c.IssueCertificate,
    certificate: dict[str, Any],
    watch: dict[str, Any] | None,
) -> None:
    """Send the register the certificate as issued (number, holder, whole shares, date,
    legends, escrow agent) and its watch."""
    payload: dict[str, Any] = {
        "act": ctx.act_id,
        "number": certificate["number"],
        "holder": _holder(ctx, cmd, certificate["registered_in"]),
        "shares": certificate["shares"]["issued"],
        "issued_at": certificate["issued_at"],
        "legends": certificate["legends"],
    }
    if certificate.get("escrow_agent"):
        payload["escrow_agent"] = certificate["escrow_agent"]
    if watch:
        payload["watch"] = {k: watch[k] for k in WATCHED}
    step.send.append(Send("share_register", "record_exercise_issuance", payload, company_one=True))
