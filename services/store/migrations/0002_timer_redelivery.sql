-- A fired timer is not done until the engine has applied its message. Timer status is now
--   pending → fired (the deadlines service published its message) → applied (the engine
--   recorded the message: applied, refused or stale), or cancelled (from pending or fired).
-- A timer left fired — its message lost with an in-memory process, or parked in the dead-letter
-- queue after a long outage — is published again (same message id, so the engine's inbox
-- applies it once) when refire_at passes; each re-fire is counted and pushes refire_at back.

ALTER TABLE timers
    ADD COLUMN applied_at timestamptz,
    ADD COLUMN refire_at  timestamptz,
    ADD COLUMN refires    integer NOT NULL DEFAULT 0;

-- Fired timers whose message the engine has already recorded are applied.
UPDATE timers t SET status = 'applied', applied_at = i.received_at
FROM inbox i
WHERE t.status = 'fired' AND i.company_id = t.company_id AND i.message_id = t.timer_id::text;

-- The rest may have been lost: due for a re-fire now.
UPDATE timers SET refire_at = COALESCE(fired_at, '-infinity') WHERE status = 'fired';

-- The re-fire sweep reads only the few timers fired and not yet applied.
CREATE INDEX timers_fired_unapplied ON timers (refire_at, timer_id) WHERE status = 'fired';
