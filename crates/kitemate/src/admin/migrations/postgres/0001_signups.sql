-- One row per account, written by the admin-signups subscription to
-- user-signed-up; a repeated delivery finds the row and adds nothing.
CREATE TABLE signups (
    user_id      TEXT PRIMARY KEY,
    -- The day in India (YYYY-MM-DD) the account was made, for daily counts.
    day          TEXT NOT NULL,
    signed_up_at BIGINT NOT NULL
);
CREATE INDEX signups_day ON signups (day);
