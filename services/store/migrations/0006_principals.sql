-- Who may do what: principals (an API key today, a person of the coming dashboard tomorrow),
-- each holding grants. A grant names a company, the parties its holder may act as and its
-- scopes (read, command, admin). A grant with no company is the installation's: its holder is
-- an operator, who may register new companies (and gets a full grant in each one it registers).
-- An API key's secret is never stored: only the SHA-256 of its random secret part.

CREATE TABLE principals (
    principal_id  text PRIMARY KEY,          -- an API key's id ("efk_<hex>"), later a person's
    kind          text NOT NULL CHECK (kind IN ('api_key', 'person')),
    label         text NOT NULL DEFAULT '',
    secret_sha256 bytea,                     -- API keys only
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz,
    CHECK ((kind = 'api_key') = (secret_sha256 IS NOT NULL))
);

CREATE TABLE grants (
    principal_id  text NOT NULL REFERENCES principals (principal_id),
    company_id    text REFERENCES companies (company_id),   -- NULL: the installation
    parties       text[] NOT NULL DEFAULT '{}',
    scopes        text[] NOT NULL,
    granted_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (scopes <@ ARRAY['read', 'command', 'admin'] AND cardinality(scopes) > 0),
    CHECK (parties <@ ARRAY['owner', 'company', 'assignee', 'board', 'escrow_agent', 'transferee']),
    -- The installation grant only registers companies: it reads and commands nothing.
    CHECK (company_id IS NOT NULL OR (scopes = ARRAY['admin'] AND parties = '{}'))
);
CREATE UNIQUE INDEX grants_company ON grants (principal_id, company_id)
    WHERE company_id IS NOT NULL;
CREATE UNIQUE INDEX grants_installation ON grants (principal_id) WHERE company_id IS NULL;
CREATE INDEX grants_by_company ON grants (company_id);

-- What administrators did to a company: registration, terms changes (forced ones say so and
-- how many workflows were open), keys created and revoked. Append-only, like the history.
CREATE TABLE company_audit (
    id            bigserial PRIMARY KEY,
    company_id    text NOT NULL,
    action        text NOT NULL,
    principal_id  text,                      -- NULL: the equityflow command line (database access)
    at            timestamptz NOT NULL DEFAULT now(),
    detail        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX company_audit_company ON company_audit (company_id, id);

CREATE FUNCTION company_audit_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'company_audit is append-only (% refused)', TG_OP;
END $$;
CREATE TRIGGER company_audit_append_only BEFORE UPDATE OR DELETE ON company_audit
    FOR EACH ROW EXECUTE FUNCTION company_audit_is_append_only();
CREATE TRIGGER company_audit_no_truncate BEFORE TRUNCATE ON company_audit
    FOR EACH STATEMENT EXECUTE FUNCTION company_audit_is_append_only();
