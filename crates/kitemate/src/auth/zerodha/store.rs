//! SQL of the Zerodha link and the login states.

use chrono::{DateTime, Utc};
use platform::db::{Db, Tx};
use platform::{with_db, with_tx, with_write};

#[derive(Debug, Clone, sqlx::FromRow)]
pub(crate) struct LinkRow {
    pub user_id: String,
    pub zerodha_user_id: String,
    /// Sealed; see `platform::crypto`.
    pub access_token: String,
    pub status: String,
    pub connected_at: DateTime<Utc>,
}

/// A login in flight, as `initiate` left it.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct StateRow {
    /// The user it links to; `None` for a visitor signing in.
    pub user_id: Option<String>,
    /// SHA-256 of the browser nonce; `None` for states made before browsers
    /// were bound, which only the bearer path can finish.
    pub browser: Option<String>,
}

pub(super) async fn insert_state(
    db: &Db,
    state: &str,
    user_id: Option<&str>,
    browser: &str,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM zerodha_states WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
    })?;
    with_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO zerodha_states (state, user_id, browser, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(state)
        .bind(user_id)
        .bind(browser)
        .bind(expires_at)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// The unexpired state, without taking it: a state shown by the wrong
/// browser must stay usable by the right one.
pub(super) async fn peek_state(
    tx: &mut Tx,
    state: &str,
    now: DateTime<Utc>,
) -> Result<Option<StateRow>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as(
            "SELECT user_id, browser FROM zerodha_states WHERE state = $1 AND expires_at > $2",
        )
        .bind(state)
        .bind(now)
        .fetch_optional(conn)
        .await
    })
}

/// Takes a state (it works once); false when another request took it first.
pub(super) async fn take_state(tx: &mut Tx, state: &str) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM zerodha_states WHERE state = $1")
            .bind(state)
            .execute(conn)
            .await
            .map(|r| r.rows_affected() == 1)
    })
}

/// Keeps a one-use code that hands a visitor's new session to their browser.
pub(super) async fn insert_handoff(
    tx: &mut Tx,
    code: &str,
    user_id: &str,
    browser: &str,
    created: bool,
    expires_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM zerodha_handoffs WHERE expires_at < $1")
            .bind(now)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO zerodha_handoffs (code, user_id, browser, created, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(code)
        .bind(user_id)
        .bind(browser)
        .bind(created)
        .bind(expires_at)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

/// Takes a handoff code shown by the browser it was made for: the user it
/// signs in and whether the sign-in made the account.
pub(super) async fn take_handoff(
    tx: &mut Tx,
    code: &str,
    browser: &str,
    now: DateTime<Utc>,
) -> Result<Option<(String, bool)>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_as(
            "DELETE FROM zerodha_handoffs WHERE code = $1 AND browser = $2 AND expires_at > $3 \
             RETURNING user_id, created",
        )
        .bind(code)
        .bind(browser)
        .bind(now)
        .fetch_optional(conn)
        .await
    })
}

pub(crate) async fn link_of(db: &Db, user_id: &str) -> Result<Option<LinkRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT user_id, zerodha_user_id, access_token, status, connected_at FROM zerodha_links WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn user_of_zerodha(
    tx: &mut Tx,
    zerodha_user_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar("SELECT user_id FROM zerodha_links WHERE zerodha_user_id = $1")
            .bind(zerodha_user_id)
            .fetch_optional(conn)
            .await
    })
}

/// Links `user_id` to `zerodha_user_id` with a fresh sealed token.
pub(super) async fn upsert_link(
    tx: &mut Tx,
    user_id: &str,
    zerodha_user_id: &str,
    sealed: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO zerodha_links (user_id, zerodha_user_id, access_token, status, connected_at, updated_at) \
             VALUES ($1, $2, $3, 'connected', $4, $4) \
             ON CONFLICT (user_id) DO UPDATE SET zerodha_user_id = $2, access_token = $3, status = 'connected', updated_at = $4",
        )
        .bind(user_id)
        .bind(zerodha_user_id)
        .bind(sealed)
        .bind(now)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

pub(crate) async fn set_status(
    db: &Db,
    user_id: &str,
    status: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("UPDATE zerodha_links SET status = $2, updated_at = $3 WHERE user_id = $1")
            .bind(user_id)
            .bind(status)
            .bind(now)
            .execute(pool)
            .await
            .map(|_| ())
    })
}

pub(super) async fn delete_link(db: &Db, user_id: &str) -> Result<bool, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM zerodha_links WHERE user_id = $1")
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected() > 0)
    })
}

/// Every sealed token, for re-sealing under a new key.
pub(crate) async fn all_links(db: &Db) -> Result<Vec<LinkRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as("SELECT user_id, zerodha_user_id, access_token, status, connected_at FROM zerodha_links")
            .fetch_all(pool)
            .await
    })
}

pub(crate) async fn reseal(
    db: &Db,
    user_id: &str,
    old: &str,
    sealed: &str,
) -> Result<bool, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE zerodha_links SET access_token = $3 WHERE user_id = $1 AND access_token = $2",
        )
        .bind(user_id)
        .bind(old)
        .bind(sealed)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() > 0)
    })
}

/// A page of the users whose link is connected and was made or refreshed
/// at or after `since` (so Kite still honours its token), by id after `after`.
pub(crate) async fn live_links(
    db: &Db,
    since: DateTime<Utc>,
    after: &str,
    limit: i64,
) -> Result<Vec<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT user_id FROM zerodha_links WHERE status = 'connected' AND updated_at >= $1 \
             AND user_id > $2 ORDER BY user_id LIMIT $3",
        )
        .bind(since)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Marks every connected link made before `before` as needing a new login;
/// returns whose they were.
pub(crate) async fn expire_links(
    tx: &mut Tx,
    before: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<Vec<String>, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query_scalar(
            "UPDATE zerodha_links SET status = 'reauth_required', updated_at = $2 \
             WHERE status = 'connected' AND updated_at < $1 RETURNING user_id",
        )
        .bind(before)
        .bind(now)
        .fetch_all(conn)
        .await
    })
}

/// Deletes login states and browser hand-offs that expired before `now`.
pub(crate) async fn delete_expired(db: &Db, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let mut deleted = 0;
    for table in ["zerodha_states", "zerodha_handoffs"] {
        let sql = format!("DELETE FROM {table} WHERE expires_at < $1");
        deleted += with_write!(db, |pool| {
            sqlx::query(&sql)
                .bind(now)
                .execute(pool)
                .await
                .map(|r| r.rows_affected())
        })?;
    }
    Ok(deleted)
}
