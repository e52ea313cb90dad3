-- Widgets: what each shows (content, JSON), who may see it, and its last
-- revisions; only the owner changes them.
CREATE TABLE widgets (
    -- UUIDv7: in the order they were made.
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    -- JSON: title, description, kind, source, options.
    content       TEXT NOT NULL,
    -- private, unlisted or public
    visibility    TEXT NOT NULL,
    hide_amounts  BOOLEAN NOT NULL,
    -- The secret of the share link, while the widget is shared.
    share_token   TEXT UNIQUE,
    revision      BIGINT NOT NULL,
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX widgets_user ON widgets (user_id, id);

-- The last revisions of each widget's content.
CREATE TABLE widget_revisions (
    widget_id   TEXT NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    revision    BIGINT NOT NULL,
    content     TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (widget_id, revision)
);

-- Widgets per user, counted where the plan's limit is checked, so two
-- requests at once cannot both take the last place.
CREATE TABLE widget_owners (
    user_id  TEXT PRIMARY KEY,
    widgets  BIGINT NOT NULL
);
