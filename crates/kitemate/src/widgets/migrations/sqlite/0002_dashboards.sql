-- Dashboards: a title and widgets placed on a 12-column grid (layout, JSON).
CREATE TABLE dashboards (
    -- UUIDv7: in the order they were made.
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    layout      TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX dashboards_user ON dashboards (user_id, id);

ALTER TABLE widget_owners ADD COLUMN dashboards BIGINT NOT NULL DEFAULT 0;

-- Users whose starter dashboard was made: a redelivered signup makes none.
CREATE TABLE starters (
    user_id     TEXT PRIMARY KEY,
    created_at  BIGINT NOT NULL
);
