-- A timer's status, as the engine moves it. A deadline can pass without its own message: a
-- later timer's message, or an act effective after it, replays the workflow past it and the
-- deadline takes effect there. Such a timer was marked cancelled (with a deadline_cancelled
-- event) although its time ran out; it is now 'spent', with a deadline_passed event, and its
-- own message, if it comes, is stale. Rows written before stay as they were.
COMMENT ON COLUMN timers.status IS
    'pending | fired (message published) | applied (its message recorded) | '
    'cancelled (deadline_cancelled) | spent (deadline_passed: it took effect in another message''s run)';
