-- The workflow kernel: one row per workflow, its hash-chained history, the inbox of processed
-- message ids, the transactional outbox, timers (every legal deadline is a row), and the
-- simulated clock used in demo/test mode. Every row names its company; every query filters by it.

CREATE TABLE companies (
    company_id   text PRIMARY KEY,
    name         text NOT NULL DEFAULT '',
    terms_id     text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workflows (
    workflow_id   uuid PRIMARY KEY,
    company_id    text NOT NULL,
    workflow_type text NOT NULL,
    terms_id      text NOT NULL,
    terms         jsonb NOT NULL,          -- pinned at start: a later edit of a terms file never
                                           -- changes a running workflow
    state         text NOT NULL,
    data          jsonb NOT NULL,
    version       integer NOT NULL,
    final         boolean NOT NULL DEFAULT false,
    head_hash     text NOT NULL,           -- hash of the latest history row: the next row chains
                                           -- from it without reading history under the lock
    created_at    timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX workflows_company_open ON workflows (company_id, workflow_type, updated_at DESC)
    WHERE NOT final;
CREATE INDEX workflows_company_recent ON workflows (company_id, updated_at DESC, workflow_id);
-- ROADMAP: "every open workflow of company C touching holder H / grant G" by index.
CREATE INDEX workflows_company_holder ON workflows (company_id, (data->>'holder')) WHERE NOT final;

-- Append-only audit trail. hash = sha256(prev_hash || canonical json of the row's content).
CREATE TABLE history (
    workflow_id   uuid NOT NULL REFERENCES workflows (workflow_id),
    seq           integer NOT NULL,
    company_id    text NOT NULL,
    message_id    text NOT NULL,
    message       jsonb NOT NULL,
    state_from    text,
    state_to      text NOT NULL,
    events        jsonb NOT NULL,
    applied_at    timestamptz NOT NULL,
    prev_hash     text NOT NULL,
    hash          text NOT NULL,
    PRIMARY KEY (workflow_id, seq)
);
CREATE FUNCTION history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'history is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION history_is_append_only();

-- A message id is applied at most once. Refusals are kept too, so a redelivered refused
-- command gets the same answer and still changes nothing.
-- Message ids are scoped by company, so one company can never collide with (or probe) another's.
CREATE TABLE inbox (
    company_id    text NOT NULL,
    message_id    text NOT NULL,
    workflow_id   uuid,
    outcome       text NOT NULL,           -- applied | refused | stale
    refusal       jsonb,
    received_at   timestamptz NOT NULL,
    PRIMARY KEY (company_id, message_id)
);

CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    company_id    text NOT NULL,
    workflow_id   uuid,
    exchange      text NOT NULL,
    routing_key   text NOT NULL,
    message_id    text NOT NULL UNIQUE,
    body          jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    sent_at       timestamptz
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Every legal deadline: who must act, by when, under which clause, and why that date.
CREATE TABLE timers (
    timer_id      uuid PRIMARY KEY,
    workflow_id   uuid NOT NULL REFERENCES workflows (workflow_id),
    company_id    text NOT NULL,
    workflow_type text NOT NULL,
    name          text NOT NULL,
    due_at        timestamptz NOT NULL,
    party         text NOT NULL,
    action        text NOT NULL,
    clause        text NOT NULL,
    derivation    text NOT NULL,
    deadline      jsonb NOT NULL,
    status        text NOT NULL DEFAULT 'pending',   -- pending | fired | cancelled
    fired_at      timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX timers_one_pending ON timers (workflow_id, name) WHERE status = 'pending';
CREATE INDEX timers_due ON timers (due_at, timer_id) WHERE status = 'pending';
CREATE INDEX timers_company_due ON timers (company_id, due_at, timer_id) WHERE status = 'pending';
CREATE INDEX timers_company_party_due ON timers (company_id, party, due_at, timer_id)
    WHERE status = 'pending';
-- Setting or cancelling a timer by name also reaches a fired one whose message is in flight.
CREATE INDEX timers_workflow_name ON timers (workflow_id, name);

-- Notices recorded by the notices service, with their effective time.
CREATE TABLE notices (
    notice_id     text PRIMARY KEY,         -- the event id that produced it
    company_id    text NOT NULL,
    workflow_id   uuid,
    kind          text NOT NULL,
    party         text NOT NULL,
    action        text NOT NULL,
    due_at        timestamptz,
    clause        text NOT NULL,
    effective_at  timestamptz,
    body          jsonb NOT NULL,
    recorded_at   timestamptz NOT NULL
);
CREATE INDEX notices_company ON notices (company_id, recorded_at DESC);

-- The simulated clock (demo and test mode only): one row, shared by every process.
CREATE TABLE sim_clock (
    id            boolean PRIMARY KEY DEFAULT true CHECK (id),
    now           timestamptz NOT NULL
);
