-- Profiles: what a user shows of themselves (their username stays in auth).
CREATE TABLE profiles (
    user_id       TEXT PRIMARY KEY,
    display_name  TEXT NOT NULL,
    bio           TEXT NOT NULL,
    -- JSON: a list of https links.
    links         TEXT NOT NULL,
    -- A private profile is not found by anyone else.
    private       BOOLEAN NOT NULL,
    updated_at    BIGINT NOT NULL
);

-- Who follows whom, and each user's counts, kept with every change.
CREATE TABLE follows (
    follower_id  TEXT NOT NULL,
    followee_id  TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, created_at);

CREATE TABLE follow_counts (
    user_id    TEXT PRIMARY KEY,
    followers  BIGINT NOT NULL,
    following  BIGINT NOT NULL
);
