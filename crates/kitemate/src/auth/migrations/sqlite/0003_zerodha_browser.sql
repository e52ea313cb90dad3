-- A Zerodha login is finished only by the browser that started it: the state
-- keeps the SHA-256 of a nonce that `initiate` put in an HttpOnly cookie.
ALTER TABLE zerodha_states ADD COLUMN browser TEXT;

-- A visitor who signed in with Zerodha through the browser redirect gets a
-- one-use code; the app exchanges it, from the same browser, for a session.
CREATE TABLE zerodha_handoffs (
    code        TEXT PRIMARY KEY,  -- SHA-256 of the code
    user_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    browser     TEXT NOT NULL,     -- SHA-256 of the browser nonce
    created     INTEGER NOT NULL,  -- the sign-in made the account
    expires_at  TEXT NOT NULL
);
