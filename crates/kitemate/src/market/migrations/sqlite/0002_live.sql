-- Prices from Kite's quote API during market hours, one per security: the
-- last traded price and when it was read (Unix ms). Shared by every user;
-- a day's close, once loaded, is newer and wins.
CREATE TABLE live_prices (
    isin      TEXT PRIMARY KEY,
    price_e4  BIGINT NOT NULL,
    read_at   BIGINT NOT NULL
);
