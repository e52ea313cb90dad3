-- The payment providers' webhook deliveries as they arrive, one row per
-- event id (a repeat finds its row and is answered as a duplicate), each
-- recorded with the outbox message that carries it to its effect. A
-- database of its own: recording a delivery never waits for the writer
-- that applies earlier ones.
CREATE TABLE webhook_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    kind         TEXT NOT NULL,
    body_sha256  TEXT NOT NULL,
    received_at  BIGINT NOT NULL,
    PRIMARY KEY (provider, event_id)
);
