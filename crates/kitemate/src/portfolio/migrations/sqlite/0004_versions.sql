-- Bumped in every transaction that changes a user's portfolio (an import,
-- a sync), so that a worked-out portfolio kept in memory is known to hold
-- with one small read. The bump also makes a user's imports take turns.
CREATE TABLE portfolio_versions (
    user_id  TEXT PRIMARY KEY,
    version  BIGINT NOT NULL
);
