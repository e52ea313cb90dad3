-- The audit log: sensitive actions, appended, never changed. Times in
-- Unix milliseconds; ids are time-ordered (UUID v7), so they page newest first.
CREATE TABLE audit_log (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    -- Whose account the action concerns; NULL for the system's own.
    user_id     TEXT,
    -- Who acted: `user`, `admin:<id>`, `support`, `razorpay`, `stripe`, `system`.
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    -- JSON object: what an auditor needs, never a secret.
    detail      TEXT NOT NULL,
    request_id  TEXT,
    ip          TEXT,
    -- A retried handler writes its entry once.
    dedupe_key  TEXT UNIQUE
);
CREATE INDEX audit_log_user ON audit_log (user_id, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
