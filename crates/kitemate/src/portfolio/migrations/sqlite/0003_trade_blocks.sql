-- Trades packed: one row per user, security and import, its fills as lines
-- of tab-separated fields (trade_id, exchange, segment, symbol, trade_date,
-- executed_at, side, quantity_milli, price_paise, order_id), sorted by day,
-- time and trade id. A row per fill made a million-trade import cost
-- seconds of B-tree work on three text-keyed indexes; duplicates are now
-- found in memory against the stored keys under a per-user lock.
CREATE TABLE trade_blocks (
    user_id    TEXT NOT NULL,
    -- The ISIN, or 'symbol:' and the symbol when the file gave none.
    security   TEXT NOT NULL,
    import_id  TEXT NOT NULL,
    isin       TEXT NOT NULL,
    fills      TEXT NOT NULL,
    PRIMARY KEY (user_id, security, import_id)
);

INSERT INTO trade_blocks (user_id, security, import_id, isin, fills)
SELECT user_id,
       CASE WHEN isin = '' THEN 'symbol:' || symbol ELSE isin END,
       import_id,
       isin,
       string_agg(
           trade_id || char(9) || exchange || char(9) || segment || char(9) || symbol || char(9) || trade_date || char(9)
           || COALESCE(executed_at, '') || char(9) || side || char(9) || CAST(quantity_milli AS TEXT) || char(9)
           || CAST(price_paise AS TEXT) || char(9) || order_id || char(10),
           '' ORDER BY trade_date, COALESCE(executed_at, ''), trade_id)
FROM trades
GROUP BY user_id, CASE WHEN isin = '' THEN 'symbol:' || symbol ELSE isin END, import_id, isin;

DROP TABLE trades;
