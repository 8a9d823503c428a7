-- A workflow's row is rewritten on every transition, and its data (a few kB of JSON, growing
-- with its timeline) pushed the row just past the 2 kB at which PostgreSQL compresses values and
-- moves them out of line: every transition compressed the data, wrote it to the TOAST table and
-- its index, and every load fetched it back and decompressed it. Rows up to a page are now kept
-- whole in the table: a little more space and WAL per row, no TOAST work on the hot path. A row
-- larger than that is compressed and moved out of line as before.
ALTER TABLE workflows SET (toast_tuple_target = 8160);
