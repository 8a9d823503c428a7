-- The indexes of a data field that only some kinds of workflow have (a grant's optionee, the
-- grant an exercise or a termination belongs to) held an entry for every workflow, the field
-- absent (NULL) or not: every transition of every workflow wrote one into each (updated_at
-- changes, so no update is HOT), though no query ever looks a NULL up. They now hold the
-- workflows that have the field only. Every query that reads them compares the field with =,
-- which is never true of NULL, so the planner proves the predicate from the query and uses the
-- index as before (tests/integration/test_messages_between_workflows.py checks it does).
DROP INDEX workflows_by_grant;
CREATE INDEX workflows_by_grant ON workflows (company_id, (data->>'grant'), workflow_type)
    WHERE (data->>'grant') IS NOT NULL;
DROP INDEX workflows_by_optionee;
CREATE INDEX workflows_by_optionee ON workflows (company_id, (data->>'optionee'), workflow_type)
    WHERE (data->>'optionee') IS NOT NULL;
