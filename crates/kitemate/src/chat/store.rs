//! SQL of the chat service, one text for SQLite and PostgreSQL.

use platform::db::Db;
use platform::{with_db, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRow {
    pub id: String,
    pub title: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRow {
    pub id: String,
    pub role: String,
    pub content: String,
    pub data: Option<String>,
    pub widget: Option<String>,
    pub created_at: i64,
}

/// A message about to be stored.
#[derive(Debug)]
pub struct NewMessage<'a> {
    pub id: &'a str,
    pub role: &'a str,
    pub content: &'a str,
    pub data: Option<String>,
    pub widget: Option<String>,
}

pub async fn used(db: &Db, user_id: &str, month: &str) -> Result<i64, sqlx::Error> {
    let used: Option<i64> = with_db!(db, |pool| {
        sqlx::query_scalar("SELECT used FROM usage WHERE user_id = $1 AND month = $2")
            .bind(user_id)
            .bind(month)
            .fetch_optional(pool)
            .await
    })?;
    Ok(used.unwrap_or(0))
}

/// The conversation, if it is the user's.
pub async fn conversation(
    db: &Db,
    user_id: &str,
    id: &str,
) -> Result<Option<ConversationRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as("SELECT id, title, created_at, updated_at FROM conversations WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })
}

pub async fn conversations(
    db: &Db,
    user_id: &str,
    limit: i64,
) -> Result<Vec<ConversationRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, title, created_at, updated_at FROM conversations WHERE user_id = $1 \
             ORDER BY updated_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

pub async fn messages(db: &Db, conversation_id: &str) -> Result<Vec<MessageRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, role, content, data, widget, created_at FROM messages \
             WHERE conversation_id = $1 ORDER BY id",
        )
        .bind(conversation_id)
        .fetch_all(pool)
        .await
    })
}

/// Deletes the conversation, if it is the user's, with its messages.
pub async fn delete_conversation(db: &Db, user_id: &str, id: &str) -> Result<bool, sqlx::Error> {
    let deleted = with_db!(db, |pool| {
        sqlx::query("DELETE FROM conversations WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })?;
    Ok(deleted > 0)
}

/// Counts an answered question against the user's allowance for `month`,
/// unless `limit` are used already.
#[derive(Debug, Clone, Copy)]
pub struct Count<'a> {
    pub month: &'a str,
    pub limit: i64,
}

/// Stores a question and its answer (creating the conversation if `title`
/// is given) and, with `count`, counts it: all in one transaction, which
/// stores nothing and returns `None` when the allowance is used up. The
/// count is one conditional statement, so concurrent answers cannot both
/// take the last question. Returns the questions used after this one.
pub async fn record(
    db: &Db,
    user_id: &str,
    conversation_id: &str,
    title: Option<&str>,
    now: i64,
    count: Option<Count<'_>>,
    messages: [NewMessage<'_>; 2],
) -> Result<Option<i64>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut used = 0;
    if let Some(count) = count {
        let counted: Option<i64> = with_tx!(tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO usage (user_id, month, used) VALUES ($1, $2, 1) \
                 ON CONFLICT (user_id, month) DO UPDATE SET used = usage.used + 1 WHERE usage.used < $3 \
                 RETURNING used",
            )
            .bind(user_id)
            .bind(count.month)
            .bind(count.limit)
            .fetch_optional(conn)
            .await
        })?;
        match counted {
            Some(n) => used = n,
            None => return Ok(None),
        }
    }
    match title {
        Some(title) => with_tx!(tx, |conn| {
            sqlx::query("INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
                .bind(conversation_id)
                .bind(user_id)
                .bind(title)
                .bind(now)
                .execute(conn)
                .await
                .map(|_| ())
        })?,
        None => with_tx!(tx, |conn| {
            sqlx::query("UPDATE conversations SET updated_at = $3 WHERE id = $1 AND user_id = $2")
                .bind(conversation_id)
                .bind(user_id)
                .bind(now)
                .execute(conn)
                .await
                .map(|_| ())
        })?,
    }
    let [question, answer] = &messages;
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO messages (id, conversation_id, role, content, data, widget, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7), ($8, $2, $9, $10, $11, $12, $7)",
        )
        .bind(question.id)
        .bind(conversation_id)
        .bind(question.role)
        .bind(question.content)
        .bind(&question.data)
        .bind(&question.widget)
        .bind(now)
        .bind(answer.id)
        .bind(answer.role)
        .bind(answer.content)
        .bind(&answer.data)
        .bind(&answer.widget)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    tx.commit().await?;
    Ok(Some(used))
}

/// Keeps a stream ticket (its hash) until `expires_at`, dropping expired ones.
pub async fn put_ticket(
    db: &Db,
    ticket_hash: &str,
    user_id: &str,
    tier: &str,
    now: i64,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    let mut tx = db.begin().await?;
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM stream_tickets WHERE expires_at < $1")
            .bind(now)
            .execute(conn)
            .await
            .map(|_| ())
    })?;
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO stream_tickets (ticket_hash, user_id, tier, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(ticket_hash)
        .bind(user_id)
        .bind(tier)
        .bind(expires_at)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    tx.commit().await
}

/// Uses up a ticket: its user and tier, when it exists and has not expired.
pub async fn take_ticket(
    db: &Db,
    ticket_hash: &str,
    now: i64,
) -> Result<Option<(String, String)>, sqlx::Error> {
    let row: Option<(String, String, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "DELETE FROM stream_tickets WHERE ticket_hash = $1 RETURNING user_id, tier, expires_at",
        )
        .bind(ticket_hash)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row
        .filter(|(_, _, expires_at)| *expires_at > now)
        .map(|(user, tier, _)| (user, tier)))
}
