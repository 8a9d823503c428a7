-- The company's reconciliation list (GET .../reconciliation, docs/design.md "Acts by effective
-- time") reads only workflows with an open item. Such workflows are few among a company's
-- thousands, so a partial index on exactly that condition answers the list without reading the
-- rest. The predicate is the query's own (services/store/reconciliation.py), word for word, so
-- the planner can match them.
CREATE INDEX workflows_open_reconciliation ON workflows (company_id)
    WHERE data @? '$.timeline.reconciliation[*] ? (@.status == "open")';
