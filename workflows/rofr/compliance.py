"""What every transfer must meet beside the right: FMP §6(g) and §6(h).

FMP §6(g): no Purchased Shares are transferred, with or without consideration, unless (i) under
an effective registration statement or an exemption under the Securities Act, and under the
states' securities laws, and (ii) if the Company asks, its counsel has the information to give,
and gives, a written opinion that it is. FMP §6(h): while the Company is an S corporation, no
transfer to a person not eligible to hold its shares, or that would end the status. FMP §6(b)(i)
makes every exempt transfer "subject to" both; FMP §6(d)(iv) makes the owner's sale after the
right passed one that "must not be effected in contravention" of them. The transferor states
how the transfer meets them (``payload.compliance``); the record keeps it beside the transfer.
"""

from __future__ import annotations

from typing import Any, Literal

from workflows.kernel import Refused
from workflows.kit.clauses import enforces
from workflows.rofr.commands import TransferCompliance
from workflows.rofr.context import Ctx


@enforces(
    "rofr.transfer_compliance.exempt_transfer",
    "rofr.transfer_compliance.owner_sale",
    "rofr.transfer_compliance.s_corporation",
    "rofr.transfer_compliance.securities_law",
)
def transfer_compliance(
    ctx: Ctx, transfer: Literal["exempt_transfer", "owner_sale"], given: TransferCompliance | None
) -> dict[str, Any] | None:
    """The compliance the terms ask of this transfer, as recorded; None where none is asked."""
    terms = ctx.rofr.transfer_compliance
    if terms is None:
        return None
    asked = terms.exempt_transfer if transfer == "exempt_transfer" else terms.owner_sale
    if not asked.value:
        return None
    if given is None:
        raise Refused(
            asked.clause,
            "state how the transfer meets the securities-law and S corporation restrictions "
            "(payload.compliance: securities_act, state_law, s_corporation)",
            "condition_unmet",
        )
    record: dict[str, Any] = {}
    if terms.securities_law.value:
        if given.securities_act == "exempt" and not given.exemption:
            raise Refused(
                terms.securities_law.clause,
                "name the exemption from registration relied on (payload.compliance.exemption)",
                "invalid_payload",
            )
        record.update(given.model_dump(include={"securities_act", "state_law"}))
        if given.exemption:
            record["exemption"] = given.exemption
        if given.counsel_opinion:
            record["counsel_opinion"] = given.counsel_opinion
        record["securities_law_clause"] = terms.securities_law.clause
    if terms.s_corporation.value:
        record["s_corporation"] = given.s_corporation
        record["s_corporation_clause"] = terms.s_corporation.clause
    return record
