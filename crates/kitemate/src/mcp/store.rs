//! SQL of the MCP authorization server, written once for SQLite and
//! PostgreSQL. Secrets arrive here already hashed.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx, with_write};

/// A client as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct ClientRow {
    pub id: String,
    pub name: String,
    pub redirect_uris: String,
    pub client_uri: Option<String>,
    pub kind: String,
    pub created_at: i64,
    pub fetched_at: Option<i64>,
}

/// An authorization a browser started.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct RequestRow {
    pub id: String,
    pub browser: String,
    pub csrf: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub state: Option<String>,
    pub scope: String,
    pub resource: String,
    pub user_id: Option<String>,
    pub expires_at: i64,
}

/// A grant: what the user sees as a connected app.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct GrantRow {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub client_name: String,
    pub redirect_uri: String,
    pub scope: String,
    pub resource: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A token with its grant, as a presented token is checked.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct TokenRow {
    pub grant_id: String,
    pub kind: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub user_id: String,
    pub client_id: String,
    pub scope: String,
    pub resource: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

const CLIENT_COLUMNS: &str = "id, name, redirect_uris, client_uri, kind, created_at, fetched_at";
const GRANT_COLUMNS: &str = "id, user_id, client_id, client_name, redirect_uri, scope, resource, \
                             created_at, last_used_at, revoked_at";

pub(super) async fn client(db: &Db, id: &str) -> Result<Option<ClientRow>, sqlx::Error> {
    let sql = format!("SELECT {CLIENT_COLUMNS} FROM mcp_clients WHERE id = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Inserts a client, or refreshes a fetched metadata document's copy.
pub(super) async fn put_client(db: &Db, row: &ClientRow) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
        "INSERT INTO mcp_clients (id, name, redirect_uris, client_uri, kind, created_at, fetched_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (id) DO UPDATE SET name = excluded.name, redirect_uris = excluded.redirect_uris, \
         client_uri = excluded.client_uri, fetched_at = excluded.fetched_at"
    )
    .bind(&row.id)
    .bind(&row.name)
    .bind(&row.redirect_uris)
    .bind(&row.client_uri)
    .bind(&row.kind)
    .bind(row.created_at)
    .bind(row.fetched_at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected())
    })?;
    Ok(())
}

pub(super) async fn insert_request(db: &Db, row: &RequestRow) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| sqlx::query(
        "INSERT INTO mcp_requests (id, browser, csrf, client_id, redirect_uri, code_challenge, \
         state, scope, resource, user_id, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    )
    .bind(&row.id)
    .bind(&row.browser)
    .bind(&row.csrf)
    .bind(&row.client_id)
    .bind(&row.redirect_uri)
    .bind(&row.code_challenge)
    .bind(&row.state)
    .bind(&row.scope)
    .bind(&row.resource)
    .bind(&row.user_id)
    .bind(row.expires_at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A pending authorization that has not expired.
pub(super) async fn request(
    db: &Db,
    id: &str,
    now: i64,
) -> Result<Option<RequestRow>, sqlx::Error> {
    with_db!(db, |pool| sqlx::query_as(
        "SELECT id, browser, csrf, client_id, redirect_uri, code_challenge, state, scope, \
         resource, user_id, expires_at FROM mcp_requests WHERE id = $1 AND expires_at > $2"
    )
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await)
}

/// The request, signed in as `user_id`, with a new CSRF token for the
/// consent form.
pub(super) async fn sign_in_request(
    db: &Db,
    id: &str,
    user_id: &str,
    csrf: &str,
) -> Result<bool, sqlx::Error> {
    let done = with_write!(db, |pool| sqlx::query(
        "UPDATE mcp_requests SET user_id = $2, csrf = $3 WHERE id = $1 AND user_id IS NULL"
    )
    .bind(id)
    .bind(user_id)
    .bind(csrf)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

/// Takes the request away (it is answered): whether it was still there.
pub(super) async fn take_request(tx: &mut Tx, id: &str) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, |conn| sqlx::query(
        "DELETE FROM mcp_requests WHERE id = $1"
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub(super) async fn insert_grant(tx: &mut Tx, row: &GrantRow) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "INSERT INTO mcp_grants (id, user_id, client_id, client_name, redirect_uri, scope, \
         resource, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
    )
    .bind(&row.id)
    .bind(&row.user_id)
    .bind(&row.client_id)
    .bind(&row.client_name)
    .bind(&row.redirect_uri)
    .bind(&row.scope)
    .bind(&row.resource)
    .bind(row.created_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

pub(super) async fn insert_code(
    tx: &mut Tx,
    hash: &str,
    grant_id: &str,
    challenge: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "INSERT INTO mcp_codes (hash, grant_id, code_challenge, expires_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(hash)
    .bind(grant_id)
    .bind(challenge)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// A code as presented: (grant id, challenge, expires at, used at).
pub(super) async fn code(
    tx: &mut Tx,
    hash: &str,
) -> Result<Option<(String, String, i64, Option<i64>)>, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_as(
        "SELECT grant_id, code_challenge, expires_at, used_at FROM mcp_codes WHERE hash = $1"
    )
    .bind(hash)
    .fetch_optional(conn)
    .await)
}

/// Marks a code used, once: whether this call was the one that did.
pub(super) async fn use_code(tx: &mut Tx, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, |conn| sqlx::query(
        "UPDATE mcp_codes SET used_at = $2 WHERE hash = $1 AND used_at IS NULL"
    )
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub(super) async fn grant(db: &Db, id: &str) -> Result<Option<GrantRow>, sqlx::Error> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM mcp_grants WHERE id = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

pub(super) async fn grant_in(tx: &mut Tx, id: &str) -> Result<Option<GrantRow>, sqlx::Error> {
    let sql = format!("SELECT {GRANT_COLUMNS} FROM mcp_grants WHERE id = $1");
    with_tx!(tx, |conn| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(conn)
        .await)
}

/// A user's live grants, newest first, after the cursor `(created_at, id)`.
pub(super) async fn grants(
    db: &Db,
    user_id: &str,
    before: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<GrantRow>, sqlx::Error> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let sql = format!(
        "SELECT {GRANT_COLUMNS} FROM mcp_grants WHERE user_id = $1 AND revoked_at IS NULL \
         AND (created_at < $2 OR (created_at = $2 AND id < $3)) \
         ORDER BY created_at DESC, id DESC LIMIT $4"
    );
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(user_id)
        .bind(at)
        .bind(id)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

/// Revokes a live grant and drops its tokens: whether it was live.
pub(super) async fn revoke_grant(tx: &mut Tx, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, |conn| sqlx::query(
        "UPDATE mcp_grants SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
    )
    .bind(id)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    with_tx!(tx, |conn| sqlx::query(
        "DELETE FROM mcp_tokens WHERE grant_id = $1"
    )
    .bind(id)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub(super) async fn insert_token(
    tx: &mut Tx,
    hash: &str,
    grant_id: &str,
    kind: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query(
        "INSERT INTO mcp_tokens (hash, grant_id, kind, expires_at) VALUES ($1, $2, $3, $4)"
    )
    .bind(hash)
    .bind(grant_id)
    .bind(kind)
    .bind(expires_at)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

const TOKEN_SELECT: &str = "SELECT t.grant_id, t.kind, t.expires_at, t.used_at, g.user_id, \
     g.client_id, g.scope, g.resource, g.revoked_at, g.last_used_at \
     FROM mcp_tokens t JOIN mcp_grants g ON g.id = t.grant_id WHERE t.hash = $1";

pub(super) async fn token(db: &Db, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    with_db!(db, |pool| sqlx::query_as(TOKEN_SELECT)
        .bind(hash)
        .fetch_optional(pool)
        .await)
}

pub(super) async fn token_in(tx: &mut Tx, hash: &str) -> Result<Option<TokenRow>, sqlx::Error> {
    with_tx!(tx, |conn| sqlx::query_as(TOKEN_SELECT)
        .bind(hash)
        .fetch_optional(conn)
        .await)
}

/// Marks a refresh token used, once: whether this call was the one that did.
pub(super) async fn use_token(tx: &mut Tx, hash: &str, now: i64) -> Result<bool, sqlx::Error> {
    let done = with_tx!(tx, |conn| sqlx::query(
        "UPDATE mcp_tokens SET used_at = $2 WHERE hash = $1 AND used_at IS NULL"
    )
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(done == 1)
}

pub(super) async fn delete_token(db: &Db, hash: &str) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| sqlx::query(
        "DELETE FROM mcp_tokens WHERE hash = $1"
    )
    .bind(hash)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Notes a grant's use, at most once a minute per grant (the list shows it).
pub(super) async fn touch_grant(db: &Db, id: &str, now: i64) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| sqlx::query(
        "UPDATE mcp_grants SET last_used_at = $2 WHERE id = $1 \
         AND (last_used_at IS NULL OR last_used_at < $3)"
    )
    .bind(id)
    .bind(now)
    .bind(now - 60_000)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Drops what has expired: requests, codes, tokens (a used refresh token is
/// kept until it expires, so a replay is still recognised), then grants
/// older than `lapsed_before` with no token or code left (never exchanged,
/// or unused until their refresh token expired; revoked ones too: the audit
/// log keeps the record).
pub(super) async fn tidy(db: &Db, now: i64, lapsed_before: i64) -> Result<u64, sqlx::Error> {
    let mut gone = 0;
    for sql in [
        "DELETE FROM mcp_requests WHERE expires_at <= $1",
        "DELETE FROM mcp_codes WHERE expires_at <= $1",
        "DELETE FROM mcp_tokens WHERE expires_at <= $1",
    ] {
        gone += with_write!(db, |pool| sqlx::query(sql)
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))?;
    }
    gone += with_write!(db, |pool| sqlx::query(
        "DELETE FROM mcp_grants WHERE created_at < $1 \
         AND NOT EXISTS (SELECT 1 FROM mcp_tokens t WHERE t.grant_id = mcp_grants.id) \
         AND NOT EXISTS (SELECT 1 FROM mcp_codes c WHERE c.grant_id = mcp_grants.id)"
    )
    .bind(lapsed_before)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()))?;
    Ok(gone)
}

/// Everything of a deleted user's.
pub(super) async fn forget_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    for sql in [
        "DELETE FROM mcp_tokens WHERE grant_id IN (SELECT id FROM mcp_grants WHERE user_id = $1)",
        "DELETE FROM mcp_codes WHERE grant_id IN (SELECT id FROM mcp_grants WHERE user_id = $1)",
        "DELETE FROM mcp_grants WHERE user_id = $1",
        "DELETE FROM mcp_requests WHERE user_id = $1",
    ] {
        with_tx!(tx, |conn| sqlx::query(sql)
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected()))?;
    }
    Ok(())
}
