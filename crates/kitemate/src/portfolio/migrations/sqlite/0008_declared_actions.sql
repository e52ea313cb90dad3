-- Corporate actions a user declared for their own portfolio, where no
-- source KiteMate reads has them: the same terms as market data's
-- `corporate_actions`, keyed by ISIN (or `symbol:X`).
CREATE TABLE declared_actions (
    user_id      TEXT NOT NULL,
    id           TEXT NOT NULL,
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
    note         TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (user_id, id),
    UNIQUE (user_id, key, kind, ex_date)
);
