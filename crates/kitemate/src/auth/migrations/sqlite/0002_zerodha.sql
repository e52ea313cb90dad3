-- A user's link to their Zerodha account. The Kite access token is kept
-- sealed (AES-256-GCM, see platform::crypto), never in clear.
CREATE TABLE zerodha_links (
    user_id          TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    zerodha_user_id  TEXT NOT NULL UNIQUE,
    access_token     TEXT NOT NULL,
    -- connected, or reauth_required once Kite says the token expired.
    status           TEXT NOT NULL,
    connected_at     TEXT NOT NULL,
    updated_at       TEXT NOT NULL
);

-- Login attempts in flight: the state on the Kite redirect, bound to the
-- user who started it (or to nobody, for a visitor signing in with Zerodha).
CREATE TABLE zerodha_states (
    state       TEXT PRIMARY KEY,
    user_id     TEXT,
    expires_at  TEXT NOT NULL
);
