"""The ROFR records its closings and completed transfers in the share register (BYL Art. V §9,
Art. VIII §2), and holds there as void what it holds void (FMP §6(i), RD ISO ¶11(f)).

Each is an internal command to the company's register (``Send`` with ``company_one``), naming
the act that completed it (``act``: the act's id in the ROFR's record), so the register records
it once however often it is carried. How the ROFR's facts map (judgment calls):

- **Which certificates**: the notice's ``certificates`` for the first transfer of the notice;
  else the register takes the Owner's outstanding certificates, lowest number first. The
  ROFR's completion is the surrender of the endorsed certificates (FMP §6(d)(iii)); a
  succession by will or intestacy is surrendered with evidence of succession.
- **Who takes them**: a third-party buyer (FMP §6(d)(iv), RD ISO ¶11(e)) or an exempt
  transferee (FMP §6(b)(i): a gift to spouse or issue, a transfer by will or intestacy), by its
  ``holder_id`` or else its name, with its address (BYL Art. VI §1: the register refuses a new
  holder without one); an assignee completing a closing (FMP §16(c), RD ISO ¶11(h)) by name;
  the Company at its own closing (FMP §6(d)(iii), RD ISO ¶11(d)): the certificates cancelled.
  A pledge to the Company or an Ownership Change moves no shares of record.
- **When**: the sale's ``sold_at`` (recorded under RD ISO ¶11(e) only once approved, but
  effective as of the sale), the closing's ``closed_at``, or the escrow agent's delivery
  (RD ISO ¶12(c)), the exempt transfer's ``transferred_at``.
- **Void**: an act that recorded and is later voided by an act effective before it (the kit's
  reconciliation, ``fact_voided``) sends ``void_rofr_transfer`` with its clause: the register
  reverses it as of its effective time, or refuses it should it arrive after the void.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from workflows.kernel import Decision, Send
from workflows.kit.clauses import enforces
from workflows.rofr.context import Ctx, Step

REGISTER = "share_register"
#: The acts that recorded in the register, by id (kept in the data: a void one is not there
#: after the replay, so the data before the decision tells which were).
RECORDED = "register_acts"


def _send(ctx: Ctx, step: Step, command: str, payload: dict[str, Any]) -> None:
    ctx.data[RECORDED] = [*(ctx.data.get(RECORDED) or []), ctx.act_id]
    body = {"act": ctx.act_id, "holder": ctx.data["holder"], **payload}
    step.send.append(Send(REGISTER, command, body, company_one=True))


def _certificates(ctx: Ctx) -> list[str] | None:
    first = len(ctx.data.get(RECORDED) or []) == 0
    return ctx.data.get("certificates") if first else None


def _holder(given: Mapping[str, Any]) -> dict[str, Any]:
    found = {"id": given.get("holder_id") or given["name"], "name": given["name"]}
    if given.get("address"):
        found["address"] = given["address"]
    return found


@enforces("rofr.buyer_takes", "rofr.sale_window")
def record_sale(ctx: Ctx, step: Step) -> None:
    """The sale to the third party, as the company's books record it."""
    sale, rofr = ctx.data["sale"], ctx.rofr
    payload = {
        "transferee": _holder(sale["buyer"]),
        "shares": sale["shares"],
        "effective_at": sale["sold_at"],
        "certificates": _certificates(ctx),
        "free_and_clear": rofr.buyer_takes.value == "free_and_clear",
        "clause": rofr.sale_window.clause,
    }
    _send(ctx, step, "record_rofr_transfer", payload)


@enforces("rofr.closing")
def record_purchase(ctx: Ctx, step: Step, at: str, assignee: str | None) -> None:
    """The purchase closed: by the Company (its certificates cancelled) or an assignee."""
    shares, clause = ctx.data.get("purchase_shares") or ctx.data["shares"], ctx.rofr.closing.clause
    common = {"shares": shares, "effective_at": at, "certificates": _certificates(ctx)}
    if assignee is None:
        _send(ctx, step, "record_rofr_repurchase", {**common, "clause": clause})
        return
    transferee = {"id": assignee, "name": assignee}
    _send(ctx, step, "record_rofr_transfer", {**common, "transferee": transferee, "clause": clause})


@enforces("rofr.exempt_transfers")
def record_exempt(ctx: Ctx, step: Step, category: str, clause: str, at: str) -> None:
    """An exempt transfer completed to a new owner of record (FMP §6(b)(i), (iii))."""
    if category not in ("gift_to_spouse_or_issue", "will_or_intestacy"):
        return  # a pledge, an Ownership Change: no transfer of record here
    payload = {
        "transferee": _holder(ctx.data["transferee"]),
        "shares": ctx.data["shares"],
        "effective_at": at,
        "certificates": _certificates(ctx),
        "endorsement": "evidence_of_succession" if category == "will_or_intestacy" else "endorsed",
        "clause": clause,
    }
    _send(ctx, step, "record_rofr_transfer", payload)


def with_voids(before: Mapping[str, Any], decision: Decision) -> Decision:
    """``decision``, sending the register ``void_rofr_transfer`` for each act it voided that
    had recorded there."""
    recorded = set(before.get(RECORDED) or [])
    voids = [
        Send(REGISTER, "void_rofr_transfer", {
            "act": e.payload["fact"]["act"], "clause": e.payload["clause"],
            "reason": e.payload["reason"],
        }, company_one=True)
        for e in decision.events
        if e.type == "fact_voided" and e.payload["fact"].get("act") in recorded
    ]  # fmt: skip
    return replace(decision, send=(*decision.send, *voids)) if voids else decision
