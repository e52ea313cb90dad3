-- What others do with a widget: its lineage when it is a fork, whether an
-- administrator hid it, its likes, forks and views, and the trending score
-- kept with each of them (log2 of the decayed sum, so it never overflows:
-- see docs/social.md).
ALTER TABLE widgets ADD COLUMN forked_from TEXT;
ALTER TABLE widgets ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE widgets ADD COLUMN likes BIGINT NOT NULL DEFAULT 0;
ALTER TABLE widgets ADD COLUMN forks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE widgets ADD COLUMN views BIGINT NOT NULL DEFAULT 0;
ALTER TABLE widgets ADD COLUMN points BIGINT NOT NULL DEFAULT 0;
ALTER TABLE widgets ADD COLUMN trend DOUBLE PRECISION NOT NULL DEFAULT 0;
-- Lower-case title, description and tags: what search reads.
ALTER TABLE widgets ADD COLUMN search TEXT NOT NULL DEFAULT '';

-- Half-life 24 h from 2025-01-01 (1735689600000 ms): a new widget starts
-- as one event at its creation.
UPDATE widgets SET
    trend = (created_at - 1735689600000) / 86400000.0,
    search = lower(coalesce(json_extract(content, '$.title'), '') || ' ' ||
                   coalesce(json_extract(content, '$.description'), ''));

-- Discovery reads public, visible widgets in each order from an index.
CREATE INDEX widgets_trending ON widgets (trend DESC, id DESC)
    WHERE visibility = 'public' AND NOT hidden;
CREATE INDEX widgets_top ON widgets (points DESC, id DESC)
    WHERE visibility = 'public' AND NOT hidden;
CREATE INDEX widgets_new ON widgets (id DESC)
    WHERE visibility = 'public' AND NOT hidden;

-- Full-text search over `search`, kept by triggers.
CREATE VIRTUAL TABLE widget_search USING fts5 (
    search, content = 'widgets', content_rowid = 'rowid'
);
INSERT INTO widget_search (rowid, search) SELECT rowid, search FROM widgets;
CREATE TRIGGER widget_search_insert AFTER INSERT ON widgets BEGIN
    INSERT INTO widget_search (rowid, search) VALUES (new.rowid, new.search);
END;
CREATE TRIGGER widget_search_delete AFTER DELETE ON widgets BEGIN
    INSERT INTO widget_search (widget_search, rowid, search)
        VALUES ('delete', old.rowid, old.search);
END;
CREATE TRIGGER widget_search_update AFTER UPDATE OF search ON widgets BEGIN
    INSERT INTO widget_search (widget_search, rowid, search)
        VALUES ('delete', old.rowid, old.search);
    INSERT INTO widget_search (rowid, search) VALUES (new.rowid, new.search);
END;

-- Who liked what. A like taken back stays as inactive, so liking again
-- counts again but tells the owner nothing new.
CREATE TABLE widget_likes (
    widget_id   TEXT NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    active      BOOLEAN NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (widget_id, user_id)
);
CREATE INDEX widget_likes_user ON widget_likes (user_id);

-- The stocks a public widget concerns: its source's symbol, and the
-- symbols its data shows anyone.
CREATE TABLE widget_symbols (
    symbol     TEXT NOT NULL,
    widget_id  TEXT NOT NULL REFERENCES widgets (id) ON DELETE CASCADE,
    PRIMARY KEY (symbol, widget_id)
);
CREATE INDEX widget_symbols_widget ON widget_symbols (widget_id);


-- Owners whose widgets stay out of discovery, the feed and their profile:
-- a private profile, or one an administrator hid.
CREATE TABLE withdrawn_owners (
    user_id  TEXT PRIMARY KEY,
    private  BOOLEAN NOT NULL,
    hidden   BOOLEAN NOT NULL
);

-- Forks others made of each owner's widgets, counted with each fork.
ALTER TABLE widget_owners ADD COLUMN forks_received BIGINT NOT NULL DEFAULT 0;
