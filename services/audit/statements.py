"""A checkpoint: a company's history heads, stated in canonical JSON and signed.

The statement (``FORMAT``) names the company, its sequence number, the digest of the company's
previous statement (so statements form a chain of their own: one removed from the middle is
missed), when it was taken, the key it was signed with, how many workflows and history rows
the company then had, and the head (version and hash) of every workflow that changed since the
previous checkpoint. Replaying a company's statements in order gives the signed head of each of
its workflows. The signature is Ed25519 over the statement's UTF-8 bytes.

A statement is kept as three copies that the signature makes interchangeable: a row of the
``checkpoints`` table, a file in the checkpoint folder (``<company>@<seq>.json``), and a
``checkpoint_signed`` event for external archiving.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from uuid import UUID

from services.store.canonical import canonical_json
from services.store.chain import GENESIS, digest
from workflows.messages import EventMessage, event_routing_key

FORMAT = "equityflow-checkpoint/1"
EVENT_TYPE = "checkpoint_signed"
EVENT_WORKFLOW_TYPE = "audit"  # the events of no workflow: ``event.audit.checkpoint_signed``
_EVENT_IDS = uuid.UUID("0b5e2f0a-7c4d-4f7e-9d1b-5a3c8e6f2d90")


class NotACheckpoint(ValueError):
    """A file or row that does not hold a checkpoint statement."""


@dataclass(frozen=True)
class Checkpoint:
    statement: str  # canonical JSON, the very text signed
    signature: str  # base64
    where: str = "the database"  # for messages: "the database" or the file it was read from

    @cached_property
    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.statement)
        except ValueError as e:
            raise NotACheckpoint(f"{self.where}: not JSON ({e})") from None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise NotACheckpoint(f"{self.where}: not an {FORMAT} statement")
        return body

    @property
    def company_id(self) -> str:
        return str(self.body["company_id"])

    @property
    def seq(self) -> int:
        return int(self.body["seq"])

    @property
    def previous(self) -> str:
        return str(self.body["previous"])

    @property
    def key_id(self) -> str:
        return str(self.body["key_id"])

    @property
    def taken_at(self) -> datetime:
        return datetime.fromisoformat(self.body["taken_at"])

    @property
    def workflows(self) -> int:
        return int(self.body["workflows"])

    @property
    def history_rows(self) -> int:
        return int(self.body["history_rows"])

    def heads(self) -> list[tuple[UUID, int, str]]:
        return [(UUID(h["workflow_id"]), int(h["version"]), h["hash"]) for h in self.body["heads"]]

    @property
    def digest(self) -> str:
        return digest(self.statement)

    def label(self) -> str:
        return f"checkpoint #{self.seq} of {self.company_id}"


def statement_text(
    *,
    company_id: str,
    seq: int,
    previous: Checkpoint | None,
    taken_at: datetime,
    key_id: str,
    workflows: int,
    history_rows: int,
    heads: list[tuple[UUID, int, str]],
) -> str:
    return canonical_json(
        {
            "format": FORMAT,
            "company_id": company_id,
            "seq": seq,
            "previous": previous.digest if previous else GENESIS,
            "taken_at": taken_at.isoformat(),
            "key_id": key_id,
            "workflows": workflows,
            "history_rows": history_rows,
            "heads": [
                {"workflow_id": str(w), "version": v, "hash": h} for w, v, h in sorted(heads)
            ],
        }
    )


def checkpoint_event(checkpoint: Checkpoint) -> tuple[str, str, dict[str, Any]]:
    """(routing key, event id, body) of the ``checkpoint_signed`` event for the outbox."""
    event_id = str(uuid.uuid5(_EVENT_IDS, checkpoint.digest))  # the digest names company + seq
    body = EventMessage(
        event_id=event_id,
        company_id=checkpoint.company_id,
        workflow_id=None,
        workflow_type=EVENT_WORKFLOW_TYPE,
        type=EVENT_TYPE,
        version=checkpoint.seq,
        occurred_at=checkpoint.taken_at,
        payload={
            "checkpoint": checkpoint.seq,
            "statement": checkpoint.statement,
            "signature": checkpoint.signature,
            "key_id": checkpoint.key_id,
        },
    ).model_dump(mode="json")
    return event_routing_key(checkpoint.company_id, EVENT_WORKFLOW_TYPE, EVENT_TYPE), event_id, body


def write_file(directory: Path, checkpoint: Checkpoint) -> Path:
    """Write the checkpoint to ``<company>@<seq>.json`` (atomically: a reader never sees half)."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{checkpoint.company_id}@{checkpoint.seq:010d}.json"
    text = json.dumps({"statement": checkpoint.statement, "signature": checkpoint.signature})
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text + "\n")
    os.replace(partial, path)
    return path


def read_files(directory: Path) -> tuple[list[Checkpoint], list[str]]:
    """Every checkpoint file in the folder, and a finding for each file that holds none."""
    found, bad = [], []
    if not directory.is_dir():
        return [], []
    for path in sorted(directory.glob("*.json")):
        try:
            raw = json.loads(path.read_text())
            found.append(Checkpoint(raw["statement"], raw["signature"], where=str(path)))
        except (ValueError, KeyError, TypeError) as e:
            bad.append(f"{path} is not a checkpoint file ({type(e).__name__}: {e})")
    return found, bad
