"""The share register's states and events in a stock administrator's words
(``workflows.kit.words``): for the demo's timeline, a dashboard, a notice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.kit.words import fill

STATE_SENTENCES = {
    "new": "The share register is not yet opened.",
    "kept": "The share register is kept.",
}

EVENT_SENTENCES = {
    "share_register_opened": "The share register is opened, kept at {kept_at} ({clause}).",
    "share_certificate_issued": "The share register records certificate {certificate[number]} "
    "for {certificate[shares]:,} {certificate[share_class]} shares in the name of "
    "{certificate[holder]}.",
    "share_certificate_cancelled": "Certificate {number} ({shares:,} shares of {holder}) is "
    "cancelled: {reason}.",
    "share_transfer_recorded": "The share register records the transfer of {transfer[shares]:,} "
    "shares from {transfer[from]} to {transfer[to]} on surrender of certificate {surrendered} "
    "({clause}).",
    "holders_of_record_changed": "Holders of record: {before} → {after}.",
    "disqualifying_disposition_reported": "{holder} disposed of {shares:,} shares from an ISO "
    "exercise on {disposed_on}, within the watch to {watch[ends_on]}: reported to the {notify} "
    "({clause}).",
    "disqualifying_disposition_withdrawn": "The disposition of {shares:,} shares reported to the "
    "{notify} is withdrawn: the transfer is void ({clause}).",
    "share_transfer_voided": "The transfer is void and reversed as of its date ({clause}).",
    "share_cancellation_voided": "The cancellation of certificate {number} is void and "
    "reversed ({clause}).",
    "share_certificate_restored": "Certificate {number} ({shares:,} shares of {holder}) is "
    "outstanding again ({clause}).",
    "share_transfer_blocked": "A transfer held void will not be recorded ({clause}).",
}

_REASONS = {
    "transfer": "transferred",
    "purchased_by_company": "bought by the Company",
    "void_transfer": "issued by a void transfer",
}


def event_sentence(event_type: str, payload: Mapping[str, Any]) -> str:
    fields: dict[str, Any] = dict(payload)
    try:
        if event_type == "share_certificate_cancelled":
            reason = payload["cancelled"]["reason"]
            fields["reason"] = _REASONS.get(reason, str(reason).replace("_", " "))
        elif event_type == "share_transfer_recorded":
            fields["surrendered"] = ", ".join(payload["transfer"]["surrendered"])
    except (KeyError, TypeError):
        pass  # ``fill`` then says the event plainly
    return fill(EVENT_SENTENCES, event_type, fields)


def state_sentence(state: str) -> str:
    return STATE_SENTENCES.get(state, f"The share register is {state.replace('_', ' ')}.")
