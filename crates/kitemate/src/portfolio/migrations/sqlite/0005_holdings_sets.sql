-- A holdings export is a snapshot replaced whole: one row per user holding
-- every line (symbol, isin, quantity_milli, average_price, last_price as
-- tab-separated fields, sorted by symbol). A row per holding made a large
-- re-import hold the only SQLite writer for seconds.
CREATE TABLE holdings_sets (
    user_id    TEXT PRIMARY KEY,
    import_id  TEXT NOT NULL,
    lines      TEXT NOT NULL
);

INSERT INTO holdings_sets (user_id, import_id, lines)
SELECT user_id, MAX(import_id),
       group_concat(
           replace(replace(symbol, char(9), ' '), char(10), ' ') || char(9) || isin || char(9)
           || CAST(quantity_milli AS TEXT) || char(9) || average_price || char(9)
           || COALESCE(last_price, '') || char(10),
           '')
FROM (SELECT * FROM imported_holdings ORDER BY user_id, symbol)
GROUP BY user_id;

DROP TABLE imported_holdings;

-- Skipped lines: the first 100 are kept with their reasons, all are counted.
ALTER TABLE imports ADD COLUMN skipped_count BIGINT NOT NULL DEFAULT 0;
UPDATE imports SET skipped_count = json_array_length(skipped);
