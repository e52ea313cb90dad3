-- The MCP authorization server's own tables: clients, pending
-- authorizations, codes, grants and tokens. Every secret (browser nonce,
-- CSRF token, code, access and refresh token) is kept only as its SHA-256.
-- Times are Unix milliseconds.

-- Registered (RFC 7591) or fetched (client ID metadata document) clients.
CREATE TABLE mcp_clients (
    id             TEXT PRIMARY KEY,       -- `kmc_…`, or the metadata document's URL
    name           TEXT NOT NULL,
    redirect_uris  TEXT NOT NULL,          -- JSON array, matched exactly
    client_uri     TEXT,
    kind           TEXT NOT NULL,          -- `registered` or `metadata`
    created_at     BIGINT NOT NULL,
    fetched_at     BIGINT                  -- metadata documents: when last read
);

-- An authorization a browser started: bound to it by a nonce in an
-- HttpOnly cookie, with the CSRF token its forms carry.
CREATE TABLE mcp_requests (
    id              TEXT PRIMARY KEY,
    browser         TEXT NOT NULL,
    csrf            TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    redirect_uri    TEXT NOT NULL,
    code_challenge  TEXT NOT NULL,
    state           TEXT,
    scope           TEXT NOT NULL,
    resource        TEXT NOT NULL,
    user_id         TEXT,                  -- once signed in
    expires_at      BIGINT NOT NULL
);

-- What a user allowed a client: the connected app they see and revoke.
CREATE TABLE mcp_grants (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    client_name   TEXT NOT NULL,
    redirect_uri  TEXT NOT NULL,
    scope         TEXT NOT NULL,
    resource      TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT,
    revoked_at    BIGINT
);
CREATE INDEX mcp_grants_user ON mcp_grants (user_id, created_at);

-- Authorization codes: one use, a few minutes.
CREATE TABLE mcp_codes (
    hash            TEXT PRIMARY KEY,
    grant_id        TEXT NOT NULL REFERENCES mcp_grants (id) ON DELETE CASCADE,
    code_challenge  TEXT NOT NULL,
    expires_at      BIGINT NOT NULL,
    used_at         BIGINT
);

-- Access and refresh tokens of a grant. A refresh token is used once; a
-- second use (a stolen copy) revokes the grant.
CREATE TABLE mcp_tokens (
    hash        TEXT PRIMARY KEY,
    grant_id    TEXT NOT NULL REFERENCES mcp_grants (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL,             -- `access` or `refresh`
    expires_at  BIGINT NOT NULL,
    used_at     BIGINT
);
CREATE INDEX mcp_tokens_grant ON mcp_tokens (grant_id);
CREATE INDEX mcp_tokens_expiry ON mcp_tokens (expires_at);
