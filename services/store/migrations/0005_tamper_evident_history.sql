-- A history no administrator can quietly rewrite.
--
-- 1. Each history row records the hash rule it was written under (services.store.chain).
--    Rows already written keep version 1 and verify under it; the engine writes version 2,
--    which also covers the company, the workflow type, whether it is final, a digest of the
--    workflow's data after the transition and, on the first row, a digest of its pinned terms.
--    The default stays 1, so an engine of the previous release, still running during a rolling
--    upgrade, writes rows that verify under the rule it used.
-- 2. Signed checkpoints of each company's head hashes (services.audit): the statement text
--    exactly as signed and its Ed25519 signature. The private key is never in the database.
-- 3. UPDATE, DELETE and TRUNCATE of history and checkpoints are refused, for every role the
--    triggers apply to (the owner included; see the README for a service role that cannot
--    disable them). Workflows are never deleted either.

ALTER TABLE history
    ADD COLUMN hash_version smallint NOT NULL DEFAULT 1,
    ADD COLUMN final        boolean,
    ADD COLUMN data_digest  text,
    ADD COLUMN terms_digest text,
    ADD CONSTRAINT history_hash_version CHECK (
        hash_version = 1 OR (hash_version = 2 AND final IS NOT NULL AND data_digest IS NOT NULL)
    );

CREATE TABLE checkpoints (
    company_id  text NOT NULL,
    seq         integer NOT NULL CHECK (seq > 0),
    statement   text NOT NULL,          -- canonical JSON, the very text signed
    signature   text NOT NULL,          -- Ed25519 over the statement's UTF-8 bytes, base64
    key_id      text NOT NULL,          -- SHA-256 of the raw public key, hex
    taken_at    timestamptz NOT NULL,
    PRIMARY KEY (company_id, seq)
);

CREATE FUNCTION append_only_refusal() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING HINT = 'history and checkpoints are never changed; see the README, "Audit trail"';
END $$;

DROP TRIGGER history_append_only ON history;
DROP FUNCTION history_is_append_only();
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON history
    FOR EACH ROW EXECUTE FUNCTION append_only_refusal();
CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON history
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refusal();

CREATE TRIGGER checkpoints_append_only BEFORE UPDATE OR DELETE ON checkpoints
    FOR EACH ROW EXECUTE FUNCTION append_only_refusal();
CREATE TRIGGER checkpoints_no_truncate BEFORE TRUNCATE ON checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refusal();

CREATE FUNCTION workflows_are_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'workflows are never deleted (% refused)', TG_OP
        USING HINT = 'a workflow ends in a final state; its history is the audit trail';
END $$;
CREATE TRIGGER workflows_kept BEFORE DELETE ON workflows
    FOR EACH ROW EXECUTE FUNCTION workflows_are_kept();
CREATE TRIGGER workflows_no_truncate BEFORE TRUNCATE ON workflows
    FOR EACH STATEMENT EXECUTE FUNCTION workflows_are_kept();
