-- Trades from Console tradebooks, one row per fill. Prices are whole paise
-- (equity ticks are 5 paise); quantities are thousandths of a unit, so ETF
-- and fund units with three decimals stay exact. Dates are IST.
CREATE TABLE trades (
    user_id        TEXT NOT NULL,
    trade_id       TEXT NOT NULL,
    exchange       TEXT NOT NULL,
    segment        TEXT NOT NULL,
    symbol         TEXT NOT NULL,
    isin           TEXT NOT NULL,
    trade_date     TEXT NOT NULL,
    executed_at    TEXT,
    side           TEXT NOT NULL,
    quantity_milli BIGINT NOT NULL,
    price_paise    BIGINT NOT NULL,
    order_id       TEXT NOT NULL,
    import_id      TEXT NOT NULL,
    -- Console's own key for a fill: re-importing an overlapping file adds nothing.
    PRIMARY KEY (user_id, trade_id, exchange, segment)
);
CREATE INDEX trades_user_date ON trades (user_id, trade_date);
CREATE INDEX trades_user_isin ON trades (user_id, isin);

-- The latest holdings export of each user: a snapshot, replaced whole.
CREATE TABLE imported_holdings (
    user_id          TEXT NOT NULL,
    symbol           TEXT NOT NULL,
    isin             TEXT NOT NULL,
    quantity_milli   BIGINT NOT NULL,
    -- Averages carry more places than paise (801.78125): exact decimal text.
    average_price    TEXT NOT NULL,
    last_price       TEXT,
    import_id        TEXT NOT NULL,
    PRIMARY KEY (user_id, symbol)
);

-- Every file imported, with what became of it.
CREATE TABLE imports (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    kind         TEXT NOT NULL,
    file_name    TEXT,
    object_key   TEXT NOT NULL,
    rows_read    BIGINT NOT NULL,
    imported     BIGINT NOT NULL,
    duplicates   BIGINT NOT NULL,
    skipped      TEXT NOT NULL,
    created_at   BIGINT NOT NULL
);
CREATE INDEX imports_user ON imports (user_id, created_at);
