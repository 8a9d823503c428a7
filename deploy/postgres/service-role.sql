-- The role the services connect as: it owns no table, so it can neither disable the
-- append-only triggers nor alter the schema; it may only add rows, read them, and update the
-- bookkeeping columns the services move forward. Run as the owner role (the one that runs
-- `equityflow migrate`), after migrating, e.g.:
--   psql "$OWNER_URL" -c "CREATE ROLE equityflow_service LOGIN PASSWORD '...'"
--   psql "$OWNER_URL" -f deploy/postgres/service-role.sql
-- and run it again after a migration that adds a table.

GRANT USAGE ON SCHEMA public TO equityflow_service;
GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO equityflow_service;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO equityflow_service;

-- What moves forward: the workflow row (state, data, version, head hash), timer status, the
-- outbox's sent_at, the inbox's outcome, a company's terms, the simulated clock.
-- (SELECT ... FOR UPDATE needs UPDATE too.)
GRANT UPDATE ON workflows, timers, outbox, inbox, companies, sim_clock TO equityflow_service;
-- A timer message that is not the deadlines service's is forgotten (its inbox row deleted).
GRANT DELETE ON inbox TO equityflow_service;

-- History is only ever appended, and checkpoints are written by `equityflow checkpoint`,
-- which runs as the owner, not by a service.
REVOKE INSERT ON checkpoints FROM equityflow_service;
REVOKE INSERT ON schema_migrations FROM equityflow_service;
