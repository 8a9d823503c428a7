-- Each pinned terms document stored once, by its digest, instead of once per workflow. Every
-- workflow of a company pins the same document (some 18 kB of JSON), and writing it into each
-- new workflow row (compressed, then TOASTed into a dozen pages of WAL) was most of the
-- database's time and WAL of a start.
--
-- A workflow started from now on names its terms by digest (workflows.terms_digest): the
-- SHA-256 of the document's canonical JSON, the very digest its first history row records and
-- hashes (services.store.chain), and the document is in terms_documents under that digest.
-- Rows written before keep their terms inline (workflows.terms) and no digest. The chain
-- verification reads the document either way and checks it against the history's digest, so a
-- document altered, or a workflow pointed at another one, is found as before. Documents, like
-- history, are never changed or deleted.
CREATE TABLE terms_documents (
    digest     text PRIMARY KEY,
    terms      jsonb NOT NULL,
    pinned_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TRIGGER terms_documents_append_only BEFORE UPDATE OR DELETE ON terms_documents
    FOR EACH ROW EXECUTE FUNCTION append_only_refusal();
CREATE TRIGGER terms_documents_no_truncate BEFORE TRUNCATE ON terms_documents
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refusal();

ALTER TABLE workflows
    ADD COLUMN terms_digest text,
    ALTER COLUMN terms DROP NOT NULL,
    ADD CONSTRAINT workflows_terms_pinned CHECK (terms IS NOT NULL OR terms_digest IS NOT NULL);

DO $$
BEGIN
    ALTER TABLE terms_documents ALTER COLUMN terms SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: terms documents stay compressed with pglz';
END $$;

-- Every workflow write updates each index of workflows (updated_at changes, so no update is
-- HOT). Nothing reads by workflows_company_open: the list orders by workflows_company_recent,
-- and counting a company's open workflows is served by workflows_company_holder, partial on
-- the same NOT final.
DROP INDEX workflows_company_open;
