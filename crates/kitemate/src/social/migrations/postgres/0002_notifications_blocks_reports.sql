-- Notices to a user: their widget forked or liked, a new follower. Likes
-- of one widget gather in one unread notice; each new like gives it a new
-- id (UUIDv7), so it rises to the top and counts as unread again.
CREATE TABLE notifications (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    -- forked, liked or followed
    kind          TEXT NOT NULL,
    -- Who did it (the latest, for a group).
    actor_id      TEXT NOT NULL,
    widget_id     TEXT,
    -- The widget's title when it happened.
    widget_title  TEXT,
    fork_id       TEXT,
    count         BIGINT NOT NULL,
    read          BOOLEAN NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE UNIQUE INDEX notifications_like_group ON notifications (user_id, widget_id)
    WHERE kind = 'liked' AND NOT read;

-- Who blocked whom: the blocked one cannot follow, fork, like or see them.
CREATE TABLE blocks (
    blocker_id  TEXT NOT NULL,
    blocked_id  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (blocker_id, blocked_id)
);
CREATE INDEX blocks_blocked ON blocks (blocked_id);

-- Reports of a public widget or profile, for administrators.
CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    reporter_id  TEXT NOT NULL,
    -- widget or profile
    target_kind  TEXT NOT NULL,
    -- A widget's id, or a profile's user id.
    target_id    TEXT NOT NULL,
    reason       TEXT NOT NULL,
    note         TEXT NOT NULL,
    -- open, hidden or dismissed
    status       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    resolved_at  BIGINT,
    resolved_by  TEXT
);
CREATE INDEX reports_status ON reports (status, id);
CREATE UNIQUE INDEX reports_once ON reports (reporter_id, target_kind, target_id)
    WHERE status = 'open';

-- A profile an administrator hid: not found by anyone but its owner.
ALTER TABLE profiles ADD COLUMN hidden BOOLEAN NOT NULL DEFAULT FALSE;
