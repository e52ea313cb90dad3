-- Corporate actions that change share counts, per security: keyed by
-- ISIN, or by `symbol:X` where the source (NSE's files) named no ISIN.
-- Ratios are whole numbers: `ratio_new` shares (of `into_isin` for a
-- merger or demerger) for every `ratio_old` held. `cost_share` is the
-- percent of the parent's cost a demerged company's shares carry.
CREATE TABLE corporate_actions (
    id           TEXT PRIMARY KEY,
    key          TEXT NOT NULL,
    symbol       TEXT NOT NULL,
    kind         TEXT NOT NULL,
    ex_date      TEXT NOT NULL,
    allotted_on  TEXT,
    ratio_new    BIGINT NOT NULL,
    ratio_old    BIGINT NOT NULL,
    into_isin    TEXT,
    into_symbol  TEXT,
    cost_share   TEXT,
    source       TEXT NOT NULL,
    note         TEXT NOT NULL,
    loaded_at    BIGINT NOT NULL,
    UNIQUE (key, kind, ex_date)
);

-- The fair market value of a listed share for grandfathering (s.55(2)(ac)):
-- its highest price on 31 January 2018, the higher of NSE's and BSE's.
CREATE TABLE fmv_2018 (
    isin     TEXT PRIMARY KEY,
    high_e4  BIGINT NOT NULL,
    source   TEXT NOT NULL
);
