"""ROFR commands as the integration tests send them: an FMP §6(d)(ii) Disposition Notice that
opens the Company's election window, and the commands that follow it, each with a message id of
its own."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from workflows.messages import ActorIn, CommandMessage

NOW = datetime(2026, 3, 2, 17, 0, tzinfo=UTC)  # 09:00 PST: the notice is delivered in person
COMPANY = "fmp"


def rofr_command(
    workflow_id: uuid.UUID, name: str, party: str, company: str = COMPANY, **payload: object
) -> CommandMessage:
    """Command ``name`` of ``party`` (the owner, Olivia Owner; any other, the Acme Board)."""
    return CommandMessage(
        message_id=str(uuid.uuid4()),
        company_id=company,
        workflow_id=workflow_id,
        workflow_type="rofr",
        command=name,
        actor=ActorIn(party=party, name="Olivia Owner" if party == "owner" else "Acme Board"),
        payload=payload,
    )


def disposition_notice(workflow_id: uuid.UUID, company: str = COMPANY) -> CommandMessage:
    """Olivia Owner's notice of a sale of 1,000 shares to Bob Buyer, delivered in person at
    ``NOW``: the workflow's election window opens (FMP §6(d)(iii))."""
    return rofr_command(
        workflow_id,
        "deliver_disposition_notice",
        "owner",
        company,
        holder="Olivia Owner",
        shares=1000,
        transferee={"name": "Bob Buyer"},
        consideration={"form": "cash", "price_per_share": "2.50"},
        compliance_proof="opinion of counsel: FMP §6(b), (c), (g), (h) not contravened",
        notice={"method": "personal", "delivered_at": NOW.isoformat()},
    )
