//! SQL of the auth service, written once for SQLite and PostgreSQL.

use chrono::{DateTime, Utc};
use platform::db::{Db, Tx};
use platform::{with_db, with_tx, with_write};

use super::model::{CallerRow, SessionRow, UserRow};

const USER_COLUMNS: &str = "id, email, username, password_hash, tier, is_admin, created_at";

pub(super) struct NewUser<'a> {
    pub id: &'a str,
    pub email: &'a str,
    pub username: &'a str,
    /// `None` for accounts made by signing in with Zerodha.
    pub password_hash: Option<&'a str>,
    pub now: DateTime<Utc>,
}

pub(super) struct NewSession<'a> {
    pub id: &'a str,
    pub user_id: &'a str,
    pub token_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user_agent: Option<&'a str>,
    pub ip: Option<&'a str>,
}

pub(super) async fn insert_user(tx: &mut Tx, user: &NewUser<'_>) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO users (id, email, username, password_hash, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(user.id)
        .bind(user.email)
        .bind(user.username)
        .bind(user.password_hash)
        .bind(user.now)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

pub(super) async fn insert_session(
    tx: &mut Tx,
    session: &NewSession<'_>,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, expires_at, user_agent, ip) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id)
        .bind(session.user_id)
        .bind(session.token_hash)
        .bind(session.now)
        .bind(session.expires_at)
        .bind(session.user_agent)
        .bind(session.ip)
        .execute(conn)
        .await
        .map(|_| ())
    })
}

/// Which of email and username are taken (lowercase comparison for usernames).
pub(super) async fn taken(
    db: &Db,
    email: &str,
    username: &str,
) -> Result<(bool, bool), sqlx::Error> {
    let rows: Vec<(String, String)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT email, lower(username) FROM users WHERE email = $1 OR lower(username) = $2",
        )
        .bind(email)
        .bind(username)
        .fetch_all(pool)
        .await
    })?;
    Ok((
        rows.iter().any(|(e, _)| e == email),
        rows.iter().any(|(_, u)| u == username),
    ))
}

/// Whether `username` (lower case) was given up by someone other than
/// `except` since `since` (Unix milliseconds), so it stays theirs.
pub(super) async fn held(
    db: &Db,
    username: &str,
    except: &str,
    since: i64,
) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM former_usernames \
             WHERE username = $1 AND user_id <> $2 AND changed_at > $3",
        )
        .bind(username)
        .bind(except)
        .bind(since)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Renames the user, keeping `old` as a former username of theirs from
/// `now` (Unix milliseconds); a name of their own they take back is no
/// longer former.
pub(super) async fn rename(
    tx: &mut Tx,
    user_id: &str,
    old: &str,
    new: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("UPDATE users SET username = $1 WHERE id = $2")
            .bind(new)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM former_usernames WHERE username = $1")
            .bind(new)
            .execute(&mut *conn)
            .await?;
        sqlx::query(
            "INSERT INTO former_usernames (username, user_id, changed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (username) DO UPDATE SET user_id = excluded.user_id, \
             changed_at = excluded.changed_at",
        )
        .bind(old)
        .bind(user_id)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

/// The current username of whoever gave up `username` since `since`.
pub(super) async fn renamed(
    db: &Db,
    username: &str,
    since: i64,
) -> Result<Option<String>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, String>(
            "SELECT u.username FROM former_usernames f JOIN users u ON u.id = f.user_id \
             WHERE f.username = $1 AND f.changed_at > $2",
        )
        .bind(username)
        .bind(since)
        .fetch_optional(pool)
        .await
    })
}

pub(super) async fn user_by_email(db: &Db, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE email = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(email)
        .fetch_optional(pool)
        .await)
}

pub(super) async fn user_by_username(
    db: &Db,
    username: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE lower(username) = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(username)
        .fetch_optional(pool)
        .await)
}

pub(super) async fn user_by_id(db: &Db, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// (id, username) of those of `ids` that exist.
pub(super) async fn usernames(db: &Db, ids: &[&str]) -> Result<Vec<(String, String)>, sqlx::Error> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|i| format!("${i}")).collect();
    let sql = format!(
        "SELECT id, username FROM users WHERE id IN ({})",
        marks.join(", ")
    );
    with_db!(db, |pool| {
        let mut query = sqlx::query_as::<_, (String, String)>(&sql);
        for id in ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}

/// (id, username) of users whose username starts with `prefix` (lower
/// case), shortest first.
pub(super) async fn find_usernames(
    db: &Db,
    prefix: &str,
    limit: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let pattern = format!(
        "{}%",
        prefix
            .replace('\\', "\\\\")
            .replace('%', "\\%")
            .replace('_', "\\_")
    );
    with_db!(db, |pool| {
        sqlx::query_as::<_, (String, String)>(
            "SELECT id, username FROM users WHERE lower(username) LIKE $1 ESCAPE '\\' \
             ORDER BY length(username), username LIMIT $2",
        )
        .bind(&pattern)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Which sessions a caller is looked up by.
#[derive(Debug, Clone, Copy)]
pub(super) enum SessionBy<'a> {
    /// The SHA-256 of the bearer token.
    TokenHash(&'a str),
    /// The session's id (a connection that outlives its request).
    Id(&'a str),
}

/// The caller of a session, with the session's expiry and revocation.
pub(super) async fn caller(db: &Db, by: SessionBy<'_>) -> Result<Option<CallerRow>, sqlx::Error> {
    let (column, value) = match by {
        SessionBy::TokenHash(hash) => ("token_hash", hash),
        SessionBy::Id(id) => ("id", id),
    };
    let sql = format!(
        "SELECT s.id AS session_id, s.expires_at, s.revoked_at, u.id AS user_id, u.email, \
         u.username, u.tier, u.is_admin, u.created_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.{column} = $1"
    );
    with_db!(db, |pool| {
        sqlx::query_as(&sql).bind(value).fetch_optional(pool).await
    })
}

pub(super) async fn sessions_of(db: &Db, user_id: &str) -> Result<Vec<SessionRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, created_at, expires_at, revoked_at, user_agent \
             FROM sessions WHERE user_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC",
        )
        .bind(user_id)
        .fetch_all(pool)
        .await
    })
}

/// Revokes one of `user_id`'s sessions; false when it has no such live session.
pub(super) async fn revoke_session(
    db: &Db,
    user_id: &str,
    session_id: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let done = with_write!(db, |pool| {
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(session_id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(done == 1)
}

/// What an operator changes about a user from the shell.
#[derive(Debug, Default)]
pub(super) struct UserChange {
    pub is_admin: Option<bool>,
}

/// Sets the user's tier when `version` is newer than the one applied.
pub(super) async fn apply_tier(
    db: &Db,
    user_id: &str,
    tier: &str,
    version: i64,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE users SET tier = $1, tier_version = $2, updated_at = $3 \
             WHERE id = $4 AND tier_version < $2",
        )
        .bind(tier)
        .bind(version)
        .bind(now)
        .bind(user_id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected() == 1)
    })
}

/// Applies `change` to the user with `email`: their id, `None` when there is none.
pub(super) async fn change_user(
    db: &Db,
    email: &str,
    change: UserChange,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query_scalar(
            "UPDATE users SET is_admin = COALESCE($1, is_admin), \
             updated_at = $2 WHERE email = $3 RETURNING id",
        )
        .bind(change.is_admin)
        .bind(now)
        .bind(email)
        .fetch_optional(pool)
        .await
    })
}

/// Deletes sessions that expired or were revoked before `before`.
///
/// On SQLite the times are RFC 3339 text, always with the `+00:00` offset,
/// which sorts in time order, so the comparison holds on both engines.
pub(super) async fn delete_dead_sessions(
    db: &Db,
    before: DateTime<Utc>,
) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM sessions WHERE expires_at < $1 OR revoked_at < $1")
            .bind(before)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// When the session was signed in, if it exists.
pub(super) async fn session_created(
    db: &Db,
    session_id: &str,
) -> Result<Option<DateTime<Utc>>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar("SELECT created_at FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(pool)
            .await
    })
}

/// Deletes the user and everything auth keeps about them; false when there
/// was no such user.
pub(super) async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<bool, sqlx::Error> {
    // Children first: the foreign keys cascade too, but saying it keeps the
    // deletion whole on a database that was made without them.
    let children = [
        "sessions",
        "zerodha_links",
        "zerodha_states",
        "zerodha_handoffs",
        "former_usernames",
    ];
    tx.delete_where(&children, "user_id", user_id).await?;
    let gone = with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(conn)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(gone == 1)
}
