"""What the engine writes for a batch: the write step of the pipeline, two statements.

The first moves the timers the batch cancelled or applied; the second (data-modifying CTEs)
inserts the terms documents new workflows pin (once each, by digest), inserts the new workflows
and updates the others to their last version in the batch, and inserts every history row, new
timer, outbox event and inbox record of the batch, each from
arrays (``unnest``), so a batch costs two round trips however many messages, events and timers
it holds. The timers move first because a decision that replaces a pending timer inserts one of
the same name, and only one pending timer per name may exist. Foreign keys are checked at the
end of a statement, so a new workflow and its first history row and timers go in together.

Every JSON value arrives as the text the engine encoded once (``services.store.canonical``):
the same text is stored, hashed and published. What is only ever read whole is stored as that
very text (``json``); the workflow's data and terms, which queries search, as ``jsonb``.
An event's text is sent once, in its history row's ``events``; its outbox row takes it from
there, and its company and workflow from that row: of each event only its routing key and id
travel apart (two array elements, not a row of eight).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime
from operator import attrgetter
from typing import Any
from uuid import UUID

from services.store.db import Connection


@dataclass(slots=True)
class WorkflowRow:
    workflow_id: UUID
    company_id: str
    workflow_type: str
    terms_id: str
    terms_json: str | None  # the pinned terms of a new workflow; None for one that exists
    state: str
    data_json: str
    version: int
    final: bool
    head_hash: str
    created_at: datetime
    updated_at: datetime


@dataclass(slots=True)  # not frozen: a frozen dataclass is built several times slower
class HistoryRow:
    workflow_id: UUID
    seq: int
    company_id: str
    message_id: str
    message_json: str
    state_from: str | None
    state_to: str
    events_json: str
    applied_at: datetime
    prev_hash: str
    hash: str
    hash_version: int
    final: bool
    data_digest: str
    terms_digest: str | None


@dataclass(slots=True)
class TimerRow:
    timer_id: UUID
    workflow_id: UUID
    company_id: str
    workflow_type: str
    name: str
    due_at: datetime
    party: str
    action: str
    clause: str
    derivation: str
    deadline_json: str
    status: str  # 'pending'; 'cancelled' or 'spent' when a later message of the batch ended it


@dataclass(slots=True)  # not frozen: a frozen dataclass is built several times slower
class OutboxRow:
    """A message with a text of its own: a refusal's event, a command sent to a workflow."""

    company_id: str
    workflow_id: UUID | None
    exchange: str
    routing_key: str
    message_id: str
    body_json: str
    position: int = 0  # among the batch's outbox rows (from 1): set by ``write_batch``


@dataclass(slots=True)
class HistoryEvents:
    """The events of a history row of the batch, as outbox rows: their texts are that row's
    ``events``, so only what PostgreSQL cannot take from it is sent (for each event, in order,
    its routing key and its id); the row's company and workflow are the history row's."""

    history: HistoryRow
    exchange: str
    routing_keys: list[str]
    event_ids: list[str]


@dataclass(slots=True)  # not frozen: a frozen dataclass is built several times slower
class InboxRow:
    company_id: str
    kind: str
    message_id: str
    workflow_id: UUID
    outcome: str  # applied | refused | stale
    refusal_json: str | None
    received_at: datetime


@dataclass
class WriteSet:
    """Everything one batch changes, in the order its messages were applied."""

    workflows: dict[UUID, WorkflowRow] = field(default_factory=dict)
    history: list[HistoryRow] = field(default_factory=list)
    timers: list[TimerRow] = field(default_factory=list)
    # Timers that exist already, by id: ('cancelled' or 'spent', None) or ('applied', when).
    timer_moves: dict[UUID, tuple[str, datetime | None]] = field(default_factory=dict)
    # In the order they are published: each workflow's events in the order of its versions.
    outbox: list[OutboxRow | HistoryEvents] = field(default_factory=list)
    inbox: list[InboxRow] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.workflows or self.inbox or self.timer_moves)


_MOVE_TIMERS = """
UPDATE timers t SET status = m.status, applied_at = COALESCE(m.applied_at, t.applied_at)
FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS m(timer_id, status, applied_at)
-- The ids as a condition on the primary key too: a join alone was planned as a scan of every
-- timer in a table of a few thousand, several times the cost of probing the index.
WHERE t.timer_id = ANY($1::uuid[]) AND t.timer_id = m.timer_id
"""

_WRITE = """
WITH pinned AS MATERIALIZED (
  SELECT p.n, p.digest, p.terms FROM unnest($61::text[], $62::text[]) WITH ORDINALITY
       AS p(terms, digest, n)
), documents AS (
  INSERT INTO terms_documents (digest, terms)
  SELECT p.digest, p.terms::jsonb FROM pinned p
  WHERE p.digest IS NOT NULL
    AND NOT EXISTS (SELECT FROM terms_documents d WHERE d.digest = p.digest)
  ON CONFLICT (digest) DO NOTHING
), new_workflows AS (
  INSERT INTO workflows (workflow_id, company_id, workflow_type, terms_id, terms, terms_digest,
                         state, data, version, final, head_hash, created_at, updated_at)
  SELECT w.workflow_id, w.company_id, w.workflow_type, w.terms_id,
         CASE WHEN p.digest IS NULL THEN p.terms::jsonb END, p.digest, w.state,
         w.data::jsonb, w.version, w.final, w.head_hash, w.created_at, w.updated_at
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
              $8::int[], $9::bool[], $10::text[], $11::timestamptz[], $12::timestamptz[])
       AS w(workflow_id, company_id, workflow_type, terms_id, pinned, state, data, version,
            final, head_hash, created_at, updated_at)
  JOIN pinned p ON p.n = w.pinned
), next_versions AS (
  UPDATE workflows SET state = w.state, data = w.data::jsonb, version = w.version,
                       final = w.final, head_hash = w.head_hash, updated_at = w.updated_at
  FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::int[], $6::text[], $7::text[],
              $8::int[], $9::bool[], $10::text[], $11::timestamptz[], $12::timestamptz[])
       AS w(workflow_id, company_id, workflow_type, terms_id, pinned, state, data, version,
            final, head_hash, created_at, updated_at)
  WHERE w.pinned IS NULL AND workflows.workflow_id = w.workflow_id
), history_rows AS (
  INSERT INTO history (workflow_id, seq, company_id, message_id, message, state_from, state_to,
                       events, applied_at, prev_hash, hash, hash_version, final, data_digest,
                       terms_digest)
  SELECT h.workflow_id, h.seq, h.company_id, h.message_id, h.message::json, h.state_from,
         h.state_to, h.events::json, h.applied_at, h.prev_hash, h.hash, h.hash_version,
         h.final, h.data_digest, h.terms_digest
  FROM unnest($13::uuid[], $14::int[], $15::text[], $16::text[], $17::text[], $18::text[],
              $19::text[], $20::text[], $21::timestamptz[], $22::text[], $23::text[], $24::int[],
              $25::bool[], $26::text[], $27::text[])
       AS h(workflow_id, seq, company_id, message_id, message, state_from, state_to, events,
            applied_at, prev_hash, hash, hash_version, final, data_digest, terms_digest)
  RETURNING workflow_id, seq, company_id, events
), timer_rows AS (
  INSERT INTO timers (timer_id, workflow_id, company_id, workflow_type, name, due_at, party,
                      action, clause, derivation, deadline, status)
  SELECT t.timer_id, t.workflow_id, t.company_id, t.workflow_type, t.name, t.due_at, t.party,
         t.action, t.clause, t.derivation, t.deadline::json, t.status
  FROM unnest($28::uuid[], $29::uuid[], $30::text[], $31::text[], $32::text[],
              $33::timestamptz[], $34::text[], $35::text[], $36::text[], $37::text[], $38::text[],
              $39::text[])
       AS t(timer_id, workflow_id, company_id, workflow_type, name, due_at, party, action,
            clause, derivation, deadline, status)
), outbox_rows AS (
  INSERT INTO outbox (company_id, workflow_id, exchange, routing_key, message_id, body)
  SELECT o.company_id, o.workflow_id, o.exchange, o.routing_key, o.message_id, o.body
  FROM (
    -- A history row's events, each one's body its text in the row's events, sent once: as is,
    -- since json (unlike jsonb) keeps the text it was given, and checked once, as that row's.
    -- Only its routing key and id come apart, by its position among the batch's outbox rows.
    SELECT m.outbox_at + e.n - 1 AS position, h.company_id, h.workflow_id, m.exchange,
           k.routing_key, k.message_id, e.body
    FROM history_rows h
    JOIN unnest($47::uuid[], $48::int[], $49::int[], $50::int[], $51::text[])
         AS m(workflow_id, seq, outbox_at, events, exchange)
      ON m.workflow_id = h.workflow_id AND m.seq = h.seq
    CROSS JOIN LATERAL json_array_elements(h.events) WITH ORDINALITY AS e(body, n)
    -- A left join, within the row's own keys: an event without a key and an id of its own is
    -- refused (NOT NULL), never dropped nor given another's.
    LEFT JOIN unnest($52::text[], $53::text[]) WITH ORDINALITY AS k(routing_key, message_id, n)
      ON k.n = m.outbox_at + e.n - 1 AND e.n <= m.events
    UNION ALL
    SELECT b.position, b.company_id, b.workflow_id, b.exchange, b.routing_key, b.message_id,
           b.body::json
    FROM unnest($40::text[], $41::uuid[], $42::text[], $43::text[], $44::text[], $45::text[],
                $46::int[])
         AS b(company_id, workflow_id, exchange, routing_key, message_id, body, position)
  ) o
  ORDER BY o.position
)
INSERT INTO inbox (company_id, kind, message_id, workflow_id, outcome, refusal, received_at)
SELECT i.company_id, i.kind, i.message_id, i.workflow_id, i.outcome, i.refusal::json,
       i.received_at
FROM unnest($54::text[], $55::text[], $56::text[], $57::uuid[], $58::text[], $59::text[],
            $60::timestamptz[])
     AS i(company_id, kind, message_id, workflow_id, outcome, refusal, received_at)
"""

_WORKFLOW_COLUMNS = [f.name for f in fields(WorkflowRow)]
_TERMS_COLUMN = _WORKFLOW_COLUMNS.index("terms_json")


def _columns(cls: type) -> Callable[[list[Any]], list[list[Any]]]:
    """Rows of a dataclass as one list per field: the arrays a statement takes. Each column is
    read by ``map`` over the rows, without a Python loop over every value, and nothing is made
    per row (the collector would count it)."""
    getters = [attrgetter(f.name) for f in fields(cls)]

    def columns(rows: list[Any]) -> list[list[Any]]:
        return [list(map(get, rows)) for get in getters]

    return columns


_workflow_columns = _columns(WorkflowRow)
_history_columns = _columns(HistoryRow)
_timer_columns = _columns(TimerRow)
_outbox_columns = _columns(OutboxRow)
_inbox_columns = _columns(InboxRow)


def _outbox_arrays(entries: list[OutboxRow | HistoryEvents]) -> list[list[Any]]:
    """The outbox as the statement takes it: the rows with texts of their own, each with its
    position; each history row's events, by the position of its first and their number; and by
    position, the routing key and id of every event of a history row (nothing at a row's own
    position)."""
    rows: list[OutboxRow] = []
    workflows: list[UUID] = []
    seqs: list[int] = []
    starts: list[int] = []
    counts: list[int] = []
    exchanges: list[str] = []
    keys: list[str | None] = []
    ids: list[str | None] = []
    for entry in entries:
        if type(entry) is OutboxRow:
            keys.append(None)
            ids.append(None)
            entry.position = len(keys)
            rows.append(entry)
        else:
            assert isinstance(entry, HistoryEvents)
            workflows.append(entry.history.workflow_id)
            seqs.append(entry.history.seq)
            starts.append(len(keys) + 1)
            counts.append(len(entry.routing_keys))
            exchanges.append(entry.exchange)
            keys += entry.routing_keys
            ids += entry.event_ids
    return [*_outbox_columns(rows), workflows, seqs, starts, counts, exchanges, keys, ids]


async def write_batch(connection: Connection, w: WriteSet) -> None:
    """Write a batch's changes: two statements (one when no existing timer moves)."""
    if w.timer_moves:
        # The timers' row locks are held already; the order is the ids'.
        moves = sorted(w.timer_moves.items(), key=_timer_id)
        await connection.execute(
            _MOVE_TIMERS,
            [m[0] for m in moves],
            [m[1][0] for m in moves],
            [m[1][1] for m in moves],
        )
    if not (w.workflows or w.inbox or w.outbox):
        return
    workflows = _workflow_columns(sorted(w.workflows.values(), key=_workflow_id))
    # Each new workflow pins its terms: the batch sends each distinct document once, with its
    # digest, and each new row its number among them. PostgreSQL stores a document once, by
    # its digest, and parses it only when it has not stored it yet.
    texts = workflows[_TERMS_COLUMN]
    pinned = list(dict.fromkeys(t for t in texts if t is not None))
    number = {text: n for n, text in enumerate(pinned, start=1)}
    workflows[_TERMS_COLUMN] = [None if t is None else number[t] for t in texts]
    await connection.execute(
        _WRITE,
        *workflows,
        *_history_columns(w.history),
        *_timer_columns(w.timers),
        *_outbox_arrays(w.outbox),
        *_inbox_columns(w.inbox),
        pinned,
        _pinned_digests(w, pinned),
    )


def _workflow_id(row: WorkflowRow) -> int:
    """The order of the rows' ids, as an integer: no UUID comparison in Python per step."""
    return row.workflow_id.int


def _timer_id(move: tuple[UUID, Any]) -> int:
    return move[0].int


def _pinned_digests(w: WriteSet, pinned: list[str]) -> list[str | None]:
    """The digest each pinned document is stored under (``terms_documents``): the one the first
    history row of a new workflow pinning it records, and hashes. A document no such row names
    has none, and goes into its workflow rows themselves, as every document did before."""
    first = {h.workflow_id: h.terms_digest for h in w.history if h.seq == 1}
    digests: dict[str, str | None] = dict.fromkeys(pinned)
    for row in w.workflows.values():
        if row.terms_json is not None and (found := first.get(row.workflow_id)) is not None:
            digests[row.terms_json] = found
    return list(digests.values())
