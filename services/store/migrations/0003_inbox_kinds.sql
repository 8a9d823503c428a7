-- Commands and timer messages are separate key spaces of the inbox. Both used to share the key
-- (company_id, message_id), so a command whose message id was a timer's id made the timer
-- message a "duplicate" when it fired, and its deadline never took effect.

ALTER TABLE inbox ADD COLUMN kind text;

-- A recorded message was a timer message if it was stale (only timers are), if its history row
-- says so, or if it was refused and the refusal names one of its workflow's timers.
UPDATE inbox i SET kind = CASE
    WHEN i.outcome = 'stale' THEN 'timer'
    WHEN EXISTS (
        SELECT 1 FROM history h
        WHERE h.workflow_id = i.workflow_id AND h.message_id = i.message_id
          AND h.message->>'kind' = 'timer'
    ) THEN 'timer'
    WHEN i.outcome = 'refused' AND EXISTS (
        SELECT 1 FROM timers t JOIN outbox o
          ON o.company_id = t.company_id AND o.body->>'caused_by' = t.timer_id::text
        WHERE t.company_id = i.company_id AND t.workflow_id = i.workflow_id
          AND t.timer_id::text = i.message_id
          AND o.body->>'type' = 'command_refused' AND o.body->'payload'->>'command' = t.name
    ) THEN 'timer'
    ELSE 'command'
END;

ALTER TABLE inbox
    ALTER COLUMN kind SET NOT NULL,
    ADD CONSTRAINT inbox_kind CHECK (kind IN ('command', 'timer')),
    DROP CONSTRAINT inbox_pkey,
    ADD PRIMARY KEY (company_id, kind, message_id);

-- A timer marked applied without a timer message recorded was swallowed by a command that
-- carried its id: fired again, if its workflow is still open (the engine applies it once) and
-- no later timer of the same name has replaced it (that one is the deadline in force now).
UPDATE timers t SET status = 'fired', applied_at = NULL,
                    refire_at = '-infinity', fired_at = COALESCE(t.fired_at, t.due_at)
FROM workflows w
WHERE w.workflow_id = t.workflow_id AND NOT w.final
  AND t.status = 'applied' AND NOT EXISTS (
    SELECT 1 FROM inbox i
    WHERE i.company_id = t.company_id AND i.kind = 'timer' AND i.message_id = t.timer_id::text
  ) AND NOT EXISTS (
    SELECT 1 FROM timers n
    WHERE n.workflow_id = t.workflow_id AND n.name = t.name AND n.created_at > t.created_at
);
