"""What a history row's hash covers, by hash version.

Each row's ``hash`` is ``sha256(prev_hash + canonical JSON of its content)``; the first row of
a workflow chains from 64 zeros. The row stores the version of the rule it was written under,
so rows written before a rule changed still verify under their own.

* **Version 1** (the first rule): workflow id, seq, message id, message, state before and
  after, events, applied_at. It left out the company and the workflow's data.
* **Version 2**: everything a reader relies on. Version 1's content, plus the company, the
  workflow type, whether the workflow is final, the SHA-256 of its data after the transition
  (``data_digest``, checked against ``workflows.data``) and, on the first row, the SHA-256 of
  the terms it pinned (``terms_digest``, checked against ``workflows.terms``). The message
  carries its own ``kind`` and id; the deadlines set, cancelled and passed in another
  message's run are the ``deadline_set``, ``deadline_cancelled`` and ``deadline_passed``
  events, with their timer ids, due times and clauses.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from json.encoder import encode_basestring
from typing import Any
from uuid import UUID

from services.store.canonical import canonical_json

GENESIS = "0" * 64
HASH_VERSION = 2


def digest(text: str) -> str:
    """SHA-256 (hex) of a text: of canonical JSON, for data and terms."""
    return hashlib.sha256(text.encode()).hexdigest()


def json_digest(value: Any) -> str:
    return digest(canonical_json(value))


def chain_hash(prev_hash: str, content: dict[str, Any]) -> str:
    return digest(prev_hash + canonical_json(content))


def row_content(
    workflow_id: UUID,
    seq: int,
    message_id: str,
    message: Any,
    state_from: str | None,
    state_to: str,
    events: Any,
    applied_at: datetime,
) -> dict[str, Any]:
    """Hash version 1's content (kept so that the rows written under it still verify)."""
    return {
        "workflow_id": str(workflow_id),
        "seq": seq,
        "message_id": message_id,
        "message": message,
        "state_from": state_from,
        "state_to": state_to,
        "events": events,
        "applied_at": applied_at.astimezone(UTC).isoformat(),
    }


def row_content_v2(
    *,
    company_id: str,
    workflow_id: UUID,
    workflow_type: str,
    seq: int,
    message_id: str,
    message: Any,
    state_from: str | None,
    state_to: str,
    final: bool,
    data_digest: str,
    terms_digest: str | None,
    events: Any,
    applied_at: datetime,
) -> dict[str, Any]:
    """Hash version 2's content: the row, its company and type, and digests of data and terms."""
    content = row_content(
        workflow_id, seq, message_id, message, state_from, state_to, events, applied_at
    )
    return {
        **content,
        "hash_version": 2,
        "company_id": company_id,
        "workflow_type": workflow_type,
        "final": final,
        "data_digest": data_digest,
        "terms_digest": terms_digest,
    }


def hash_v2(
    prev_hash: str,
    *,
    company_id: str,
    workflow_id: UUID,
    workflow_type: str,
    seq: int,
    message_id: str,
    message_json: str,
    state_from: str | None,
    state_to: str,
    final: bool,
    data_digest: str,
    terms_digest: str | None,
    events_json: str,
    applied_at: datetime,
) -> str:
    """``chain_hash(prev_hash, row_content_v2(...))`` from the message and events as the
    canonical JSON already written for their columns: each is encoded once, not again here.

    Canonical JSON is compact with sorted keys, so the content's text is its fields' texts
    spliced in key order (a unit test holds this equal to the general rule).
    """
    # One f-string: the content's keys in sorted order, each value as its JSON text.
    return digest(
        f'{prev_hash}{{"applied_at":{_text(applied_at.astimezone(UTC).isoformat())}'
        f',"company_id":{_text(company_id)},"data_digest":{_text(data_digest)}'
        f',"events":{events_json},"final":{"true" if final else "false"},"hash_version":2'
        f',"message":{message_json},"message_id":{_text(message_id)},"seq":{seq}'
        f',"state_from":{_text(state_from)},"state_to":{_text(state_to)}'
        f',"terms_digest":{_text(terms_digest)},"workflow_id":{_text(str(workflow_id))}'
        f',"workflow_type":{_text(workflow_type)}}}'
    )


def _text(value: str | None) -> str:
    """``dump_json`` of a string or None: the string encoder ``json`` itself calls for it."""
    return "null" if value is None else encode_basestring(value)
