-- Trades packed by month too: a block holds one import's fills of one
-- security, under one symbol, in one calendar month, with their count. A
-- page of trades then reads the months it shows, not the user's whole
-- history; trade_months keeps each month's count per user.
CREATE TABLE trade_blocks_by_month (
    user_id    TEXT NOT NULL,
    security   TEXT NOT NULL,
    import_id  TEXT NOT NULL,
    -- 'YYYY-MM' of the trade dates; '' for blocks stored before months,
    -- which the app splits when it starts.
    month      TEXT NOT NULL,
    symbol     TEXT NOT NULL,
    isin       TEXT NOT NULL,
    n          BIGINT NOT NULL,
    -- lz4: a fraction of pglz's CPU.
    fills      TEXT COMPRESSION lz4 NOT NULL,
    PRIMARY KEY (user_id, security, import_id, month, symbol)
);

INSERT INTO trade_blocks_by_month (user_id, security, import_id, month, symbol, isin, n, fills)
SELECT user_id, security, import_id, '', '', isin, 0, fills FROM trade_blocks;

DROP TABLE trade_blocks;
ALTER TABLE trade_blocks_by_month RENAME TO trade_blocks;
CREATE INDEX trade_blocks_month ON trade_blocks (user_id, month);
CREATE INDEX trade_blocks_symbol ON trade_blocks (user_id, symbol, month);
-- Finds the blocks still to split at start without reading the others.
CREATE INDEX trade_blocks_unsplit ON trade_blocks (user_id) WHERE month = '';

CREATE TABLE trade_months (
    user_id  TEXT NOT NULL,
    month    TEXT NOT NULL,
    n        BIGINT NOT NULL,
    PRIMARY KEY (user_id, month)
);
