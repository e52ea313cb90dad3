-- Dashboards can be public: listed on their owner's profile (with the
-- shared widgets on them) and forked whole.
ALTER TABLE dashboards ADD COLUMN visibility TEXT NOT NULL DEFAULT 'private';
CREATE INDEX dashboards_public ON dashboards (user_id, id) WHERE visibility = 'public';
