-- The JSON the engine writes on every transition, compressed with LZ4 instead of pglz: a
-- workflow's pinned terms (about 18 kB of text, once per workflow), its data (rewritten on every
-- transition) and each history row's events are all past the size at which PostgreSQL compresses
-- a value, and pglz took most of the database's time per transition. Only values written from now
-- on change; reading either kind is transparent. A server built without LZ4 keeps pglz.
DO $$
BEGIN
    ALTER TABLE workflows ALTER COLUMN terms SET COMPRESSION lz4,
                          ALTER COLUMN data SET COMPRESSION lz4;
    ALTER TABLE history ALTER COLUMN events SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported OR invalid_parameter_value THEN
    RAISE NOTICE 'this PostgreSQL has no LZ4: JSON columns stay compressed with pglz';
END $$;
