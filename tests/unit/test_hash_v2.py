"""The engine hashes a history row from the texts it stores; the verifier from the values it
reads back. Both must give one hash for one row."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

from services.store.canonical import dump_json, normalise
from services.store.chain import GENESIS, chain_hash, hash_v2, row_content_v2


def test_the_spliced_content_hashes_as_the_general_rule() -> None:
    message = normalise({"kind": "command", "payload": {"shares": 2.0, "name": "Zoë"}, "n": [1]})
    events = normalise([{"type": "x", "payload": {"b": 1, "a": None}}])
    for final, state_from, terms_digest in ((True, None, "t" * 64), (False, "s", None)):
        fields = dict(
            company_id="acme", workflow_id=uuid.uuid4(), workflow_type="rofr", seq=3,
            message_id="m-1", state_from=state_from, state_to="closed", final=final,
            data_digest="d" * 64, terms_digest=terms_digest,
            applied_at=datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=-8))),
        )  # fmt: skip
        general = chain_hash(GENESIS, row_content_v2(message=message, events=events, **fields))
        spliced = hash_v2(
            GENESIS, message_json=dump_json(message), events_json=dump_json(events), **fields
        )
        assert spliced == general
