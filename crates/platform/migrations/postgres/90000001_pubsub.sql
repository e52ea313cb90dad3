-- Platform tables in every service database: the pub/sub outbox (one row per
-- message and subscription, kept until handled or dead-lettered) and the
-- dedupe record of exactly-once subscriptions. Times are Unix milliseconds so
-- that both engines compare them as integers.
CREATE TABLE platform_outbox (
    message_id      TEXT NOT NULL,
    subscription    TEXT NOT NULL,
    topic           TEXT NOT NULL,
    payload         TEXT NOT NULL,
    published_at    BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT NOT NULL DEFAULT 0,
    dead            BOOLEAN NOT NULL DEFAULT FALSE,
    last_error      TEXT,
    PRIMARY KEY (message_id, subscription)
);
CREATE INDEX platform_outbox_due ON platform_outbox (subscription, dead, next_attempt_at);

CREATE TABLE platform_processed (
    subscription TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    processed_at BIGINT NOT NULL,
    PRIMARY KEY (subscription, message_id)
);
