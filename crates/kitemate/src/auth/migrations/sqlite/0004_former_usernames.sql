-- Usernames given up by a change, lower case: the old profile address
-- sends visitors to the new one, and no one else takes the name, for 30
-- days from `changed_at` (Unix milliseconds).
CREATE TABLE former_usernames (
    username    TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    changed_at  BIGINT NOT NULL
);
CREATE INDEX former_usernames_user ON former_usernames (user_id);
