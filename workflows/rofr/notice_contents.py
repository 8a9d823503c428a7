"""What the owner's notice of a proposed transfer must contain, read from its payload.

FMP §6(d)(ii): a Disposition Notice with the bona fide offer's basic terms, incl. the price, and
satisfactory proof that the sale would not contravene §6(b), (c), (g), (h). RD ISO ¶11(b): a
Transfer Notice describing the transfer fully (shares, the Proposed Transferee's name and
address, the price if voluntary, evidence it is bona fide), one per transferee, signed by the
optionee and the transferee, a binding commitment subject only to the right.
"""

from __future__ import annotations

from datetime import date

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.notices import EffectiveNotice
from workflows.rofr import commands as c
from workflows.rofr.context import Ctx


@enforces(
    "rofr.notice_name",
    "rofr.requirements.one_notice_per_transferee",
    "rofr.requirements.transferee_address",
)
def transferees(ctx: Ctx, cmd: c.DeliverTransferNotice, rule: str) -> list[dict[str, str]]:
    req = ctx.rofr.requirements
    raw = cmd.transferees
    if raw is None:
        if cmd.transferee is None:
            raise Refused(rule, "payload.transferee is required (an object)", "invalid_payload")
        raw = [cmd.transferee]
    if not raw:
        raise Refused(
            rule, "payload.transferee must name the proposed transferee", "invalid_payload"
        )
    if len(raw) > 1 and req.one_notice_per_transferee.value:
        names = ", ".join(t.name for t in raw)
        raise Refused(
            req.one_notice_per_transferee.clause,
            f"one {ctx.rofr.notice_name.value} per proposed transferee: send a separate "
            f"notice to each of {names}",
        )
    out = []
    for t in raw:
        entry = {"name": t.name}
        if req.transferee_address.value and not t.address:
            raise _required(req.transferee_address.clause, "transferee.address")
        if t.address:
            entry["address"] = t.address
        out.append(entry)
    return out


def _required(rule: str, field: str) -> Refused:
    return Refused(rule, f"payload.{field} is required (non-empty text)", "invalid_payload")


@enforces(
    "rofr.non_cash",
    "rofr.requirements.price_required_for",
    "rofr.requirements.price_when_absent",
)
def consideration(ctx: Ctx, cmd: c.DeliverTransferNotice, rule: str) -> tuple[dict[str, str], str]:
    req, transfer_type = ctx.rofr.requirements, cmd.transfer_type
    raw = cmd.consideration or c.Consideration()
    form = raw.form
    out: dict[str, str] = {"form": form}
    for key, value in (("price_per_share", raw.price_per_share), ("total", raw.total)):
        if value is not None:
            out[key] = str(value)
    if form == "property":
        if not raw.description:
            raise _required(ctx.rofr.non_cash.clause, "consideration.description")
        out["description"] = raw.description
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
def check_contents(ctx: Ctx, cmd: c.DeliverTransferNotice, rule: str) -> None:
    req = ctx.rofr.requirements
    if req.compliance_proof.value and not cmd.compliance_proof:
        raise _required(req.compliance_proof.clause, "compliance_proof")
    if (
        req.bona_fide_evidence.value
        and cmd.transfer_type != "involuntary"
        and not cmd.bona_fide_evidence
    ):
        raise _required(req.bona_fide_evidence.clause, "bona_fide_evidence")
    signers = {str(s.party) for s in cmd.signed_by}
    missing = [str(s) for s in req.signatures.value if str(s) not in signers]
    if missing:
        raise Refused(
            req.signatures.clause,
            f"the {ctx.rofr.notice_name.value} must be signed by "
            f"{' and '.join(str(s) for s in req.signatures.value)}; "
            f"missing: {', '.join(missing)} (payload.signed_by: party and name of each signer)",
        )
    binding = req.binding_commitment
    if binding and binding.value and not cmd.binding_commitment:
        raise Refused(
            binding.clause,
            f"the {ctx.rofr.notice_name.value} must be a binding commitment of the owner and the "
            "proposed transferee to the transfer, subject only to the right: confirm "
            "payload.binding_commitment",
        )
    blocked = req.no_transfer_while_subject_to_repurchase
    if blocked and blocked.value and cmd.subject_to_repurchase_right:
        raise Refused(
            blocked.clause,
            "shares still subject to the Repurchase Right may not be transferred at all",
        )
    if cmd.shares_in_escrow and ctx.rofr.escrow is None:
        raise Refused(rule, f"these terms ({ctx.terms.id}) have no escrow of shares")


@enforces("rofr.partial_exercise.owner_choice")
def date_on_notice(ctx: Ctx, eff: EffectiveNotice, dated: date | None, rule: str) -> date | None:
    """The date written on the notice (FMP §6(d)(v) counts the owner's choice from it)."""
    pe = ctx.rofr.partial_exercise
    clause = pe.owner_choice.clause if pe else rule
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


def day_given(ctx: Ctx, eff: EffectiveNotice) -> date:
    # An undated notice's "date" is the day it was sent: the day of deposit for mail, not the
    # later day it took effect (FMP §6(d)(v) counts from the notice's date, not its receipt).
    return ctx.cal.local_date(eff.deposited_at or eff.delivered_at or eff.at)
