-- Closing prices: one per security (by ISIN) and trading day, from the
-- source that ranks first (NSE 0, BSE 1, AMFI 2). Prices are rupees × 10⁴
-- (NAVs have four places); days are YYYY-MM-DD in India time.
CREATE TABLE closes (
    isin      TEXT NOT NULL,
    day       TEXT NOT NULL,
    close_e4  BIGINT NOT NULL,
    source    TEXT NOT NULL,
    rank      BIGINT NOT NULL,
    PRIMARY KEY (isin, day)
);

-- The newest close of each security: what a holding is valued at.
CREATE TABLE latest_closes (
    isin      TEXT PRIMARY KEY,
    day       TEXT NOT NULL,
    close_e4  BIGINT NOT NULL,
    source    TEXT NOT NULL,
    symbol    TEXT NOT NULL
);

-- Index closing values (NIFTY 50 and the rest NSE lists), points × 10⁴.
CREATE TABLE index_closes (
    name      TEXT NOT NULL,
    day       TEXT NOT NULL,
    close_e4  BIGINT NOT NULL,
    PRIMARY KEY (name, day)
);

-- Every file loaded, whole: what it held and when.
CREATE TABLE loads (
    id          TEXT PRIMARY KEY,
    layout      TEXT NOT NULL,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    first_day   TEXT,
    last_day    TEXT,
    closes      BIGINT NOT NULL,
    indices     BIGINT NOT NULL,
    skipped     BIGINT NOT NULL,
    loaded_at   BIGINT NOT NULL
);
CREATE INDEX loads_loaded_at ON loads (loaded_at);
CREATE INDEX loads_sha256 ON loads (sha256);

-- Which feed (nse-equity, bse-equity, nse-indices, amfi-nav) has been
-- loaded for which day: the daily refresh and a back-fill fetch only what
-- is missing.
CREATE TABLE loaded_days (
    feed     TEXT NOT NULL,
    day      TEXT NOT NULL,
    PRIMARY KEY (feed, day)
);

-- Bumped by every load that changed a price of a past day, so worked-out
-- portfolios and history know to value again.
CREATE TABLE price_generation (
    id          BIGINT PRIMARY KEY,
    generation  BIGINT NOT NULL
);
INSERT INTO price_generation (id, generation) VALUES (1, 0);
