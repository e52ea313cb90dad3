-- Short-lived, single-use tickets that open /chat/stream from a browser,
-- which cannot set an Authorization header on a WebSocket. Stored hashed.
CREATE TABLE stream_tickets (
    ticket_hash  TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL,
    tier         TEXT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX stream_tickets_expiry ON stream_tickets (expires_at);
