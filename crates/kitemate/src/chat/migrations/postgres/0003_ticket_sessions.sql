-- A ticket opens a WebSocket for a session; the socket checks that session
-- again before every question, so a logout ends what it opened. The user
-- and tier come from the session then, not from the ticket.
ALTER TABLE stream_tickets ADD COLUMN session_id TEXT NOT NULL DEFAULT '';
ALTER TABLE stream_tickets DROP COLUMN user_id;
ALTER TABLE stream_tickets DROP COLUMN tier;
