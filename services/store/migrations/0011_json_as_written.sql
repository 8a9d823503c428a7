-- JSON the engine writes once and never searches, stored as the very text it wrote (json)
-- instead of parsed into jsonb: a history row's message and events, an outbox event's body, a
-- timer's deadline and a refusal. PostgreSQL only checks that json text is well formed, while
-- jsonb input builds and sorts a binary document: that took a large share of the database's
-- time per transition. Reading json returns the stored text as is. These columns are read
-- whole, or with -> and ->>, which work on json alike; nothing compares, indexes or searches
-- them as jsonb. The workflow's data and pinned terms stay jsonb: indexes and the register view
-- search them. Changing the type rewrites the tables once; no row trigger fires.
ALTER TABLE history ALTER COLUMN message TYPE json, ALTER COLUMN events TYPE json;
ALTER TABLE outbox ALTER COLUMN body TYPE json;
ALTER TABLE timers ALTER COLUMN deadline TYPE json;
ALTER TABLE inbox ALTER COLUMN refusal TYPE json;

-- A history row's events are past the size at which PostgreSQL compresses a value: LZ4, as for
-- the other large JSON (0010), where the server has it.
DO $$
BEGIN
    ALTER TABLE history ALTER COLUMN events SET COMPRESSION lz4,
                        ALTER COLUMN message SET COMPRESSION lz4;
    ALTER TABLE outbox ALTER COLUMN body SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: JSON columns stay compressed with pglz';
END $$;
