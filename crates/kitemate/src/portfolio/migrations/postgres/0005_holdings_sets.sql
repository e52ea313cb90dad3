-- A holdings export is a snapshot replaced whole: one row per user holding
-- every line (symbol, isin, quantity_milli, average_price, last_price as
-- tab-separated fields, sorted by symbol). A row per holding made a large
-- re-import slow and long-locked.
CREATE TABLE holdings_sets (
    user_id    TEXT PRIMARY KEY,
    import_id  TEXT NOT NULL,
    lines      TEXT NOT NULL
);

INSERT INTO holdings_sets (user_id, import_id, lines)
SELECT user_id, MAX(import_id),
       string_agg(
           replace(replace(symbol, chr(9), ' '), chr(10), ' ') || chr(9) || isin || chr(9)
           || CAST(quantity_milli AS TEXT) || chr(9) || average_price || chr(9)
           || COALESCE(last_price, '') || chr(10),
           '' ORDER BY symbol)
FROM imported_holdings
GROUP BY user_id;

DROP TABLE imported_holdings;

-- Skipped lines: the first 100 are kept with their reasons, all are counted.
ALTER TABLE imports ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;
UPDATE imports SET skipped_count = json_array_length(skipped::json);
