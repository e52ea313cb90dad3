-- What the last sync from Kite found; each table is the user's latest
-- snapshot, replaced whole by the next sync. Prices are exact decimal text.
CREATE TABLE synced_holdings (
    user_id         TEXT NOT NULL,
    isin            TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    exchange        TEXT NOT NULL,
    quantity_milli  BIGINT NOT NULL,
    average_price   TEXT NOT NULL,
    last_price      TEXT NOT NULL,
    close_price     TEXT NOT NULL,
    PRIMARY KEY (user_id, isin, exchange)
);

CREATE TABLE synced_funds (
    user_id         TEXT NOT NULL,
    isin            TEXT NOT NULL,
    fund            TEXT NOT NULL,
    quantity_milli  BIGINT NOT NULL,
    average_price   TEXT NOT NULL,
    last_price      TEXT NOT NULL,
    PRIMARY KEY (user_id, isin)
);

CREATE TABLE synced_positions (
    user_id         TEXT NOT NULL,
    symbol          TEXT NOT NULL,
    exchange        TEXT NOT NULL,
    product         TEXT NOT NULL,
    quantity        BIGINT NOT NULL,
    average_price   TEXT NOT NULL,
    last_price      TEXT NOT NULL,
    pnl             TEXT NOT NULL,
    PRIMARY KEY (user_id, symbol, exchange, product)
);

CREATE TABLE syncs (
    user_id         TEXT PRIMARY KEY,
    synced_at       BIGINT NOT NULL,
    -- Equity segment funds: net and cash, exact decimal text.
    equity_net      TEXT,
    equity_cash     TEXT
);

-- One row per user per day in India: the portfolio's value at the last sync
-- of that day, for the history chart.
CREATE TABLE daily_snapshots (
    user_id         TEXT NOT NULL,
    day             TEXT NOT NULL,
    value_paise     BIGINT NOT NULL,
    invested_paise  BIGINT NOT NULL,
    pnl_paise       BIGINT NOT NULL,
    PRIMARY KEY (user_id, day)
);
