-- Each day's end as the daily refresh records it, beside what syncs record:
-- the day's change, the money put in (buys) or taken out (sells) that day,
-- NIFTY 50's close (points × 10⁴), and whose row it is: `sync` (a sync's
-- value at its time), `close` (the refresh, valued at the day's closes).
ALTER TABLE daily_snapshots ADD COLUMN day_change_paise BIGINT;
ALTER TABLE daily_snapshots ADD COLUMN net_flow_paise BIGINT;
ALTER TABLE daily_snapshots ADD COLUMN nifty_close_e4 BIGINT;
ALTER TABLE daily_snapshots ADD COLUMN source TEXT NOT NULL DEFAULT 'sync';
CREATE INDEX daily_snapshots_day ON daily_snapshots (day, source);
