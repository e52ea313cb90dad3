-- Conversations and their messages; only their owner reads them.
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    title       TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX conversations_user ON conversations (user_id, updated_at);

CREATE TABLE messages (
    -- UUIDv7: in the order they were written.
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- user or assistant
    role             TEXT NOT NULL,
    content          TEXT NOT NULL,
    -- JSON: the data and widget of an answer.
    data             TEXT,
    widget           TEXT,
    created_at       BIGINT NOT NULL
);
CREATE INDEX messages_conversation ON messages (conversation_id, id);

-- Answered questions per user per calendar month (IST), `YYYY-MM`.
CREATE TABLE usage (
    user_id  TEXT NOT NULL,
    month    TEXT NOT NULL,
    used     BIGINT NOT NULL,
    PRIMARY KEY (user_id, month)
);
