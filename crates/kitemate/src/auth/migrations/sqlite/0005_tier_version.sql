-- The version of the newest tier change applied (the subscriptions
-- service numbers them), so an older change delivered late is ignored.
ALTER TABLE users ADD COLUMN tier_version BIGINT NOT NULL DEFAULT 0;
