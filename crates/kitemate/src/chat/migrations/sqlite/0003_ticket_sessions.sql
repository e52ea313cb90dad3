-- A ticket opens a WebSocket for a session; the socket checks that session
-- again before every question, so a logout ends what it opened.
ALTER TABLE stream_tickets ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
