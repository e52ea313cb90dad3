//! SQL of the chat service, one text for SQLite and PostgreSQL.

use platform::db::{Db, Tx};

use platform::{with_db, with_tx, with_write};

/// What a batch does: reservations and refunds of the allowance, and
/// answers to store, in the order they came.
#[derive(Debug, Clone)]
pub enum Op {
    /// Takes one question from `(user, month)` while fewer than `limit` are
    /// used: the questions used after it, or `None` when none were left.
    Reserve {
        user_id: String,
        month: String,
        limit: i64,
    },
    /// Gives back a reserved question (the server or the model failed).
    Refund {
        user_id: String,
        month: String,
    },
    Record(Box<Record>),
}

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

/// A stored time (Unix milliseconds).
pub fn at(millis: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// A stored JSON column (an answer's data or widget), if it reads as `T`.
pub fn parse<T: serde::de::DeserializeOwned>(text: Option<&str>) -> Option<T> {
    text.and_then(|t| serde_json::from_str(t).ok())
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

/// The role and text of the last `n` messages of a conversation, oldest
/// first (their figures and widgets are not read: context needs neither).
pub async fn recent_messages(
    db: &Db,
    conversation_id: &str,
    n: i64,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let mut rows: Vec<(String, String)> = with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT role, content FROM messages \
             WHERE conversation_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(conversation_id)
        .bind(n)
        .fetch_all(pool)
        .await
    })?;
    rows.reverse();
    Ok(rows)
}

/// The user's conversations in id order after `after`, `limit` at most.
pub async fn conversations_after(
    db: &Db,
    user_id: &str,
    after: &str,
    limit: i64,
) -> Result<Vec<ConversationRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT id, title, created_at, updated_at FROM conversations \
             WHERE user_id = $1 AND id > $2 ORDER BY id LIMIT $3",
        )
        .bind(user_id)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Questions counted per month (`YYYY-MM`), oldest first.
pub async fn usage_months(db: &Db, user_id: &str) -> Result<Vec<(String, i64)>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as("SELECT month, used FROM usage WHERE user_id = $1 ORDER BY month")
            .bind(user_id)
            .fetch_all(pool)
            .await
    })
}

/// Deletes everything chat keeps about the user (a stream ticket names a
/// session, which auth has ended; it expires in seconds).
pub async fn delete_user(tx: &mut Tx, user_id: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "DELETE FROM messages WHERE conversation_id IN \
             (SELECT id FROM conversations WHERE user_id = $1)",
        )
        .bind(user_id)
        .execute(conn)
        .await
        .map(drop)
    })?;
    tx.delete_where(&["conversations", "usage"], "user_id", user_id)
        .await
        .map(drop)
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

/// A question and its answer, to store.
#[derive(Debug, Clone)]
pub struct Record {
    pub user_id: String,
    pub conversation_id: String,
    /// The title of a new conversation; `None` adds to the existing one.
    pub title: Option<String>,
    pub now: i64,
    /// Counts the question in this month (Pro: no limit to check; a Free
    /// question was counted when it was reserved). `None` counts nothing.
    pub count: Option<String>,
    pub question_id: String,
    pub question: String,
    pub answer_id: String,
    pub answer: String,
    pub data: Option<String>,
    pub widget: Option<String>,
}

/// Applies `ops` in one transaction: reservations and refunds in order,
/// then the records. A reservation is a conditional statement, so
/// concurrent questions cannot take the same last one. Returns, per op, the
/// questions used after it (0 for a refund or a record that does not
/// count), or `None` for a reservation when none were left.
pub async fn apply_all(db: &Db, ops: &[Op]) -> Result<Vec<Option<i64>>, sqlx::Error> {
    let mut tx = db.begin().await?;
    let mut used: Vec<Option<i64>> = vec![Some(0); ops.len()];
    let mut records: Vec<&Record> = Vec::with_capacity(ops.len());
    let mut at: Vec<usize> = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        match op {
            Op::Reserve {
                user_id,
                month,
                limit,
            } => {
                used[i] = with_tx!(tx, |conn| {
                    sqlx::query_scalar(
                        "INSERT INTO usage (user_id, month, used) VALUES ($1, $2, 1) \
                         ON CONFLICT (user_id, month) DO UPDATE SET used = usage.used + 1 WHERE usage.used < $3 \
                         RETURNING used",
                    )
                    .bind(user_id)
                    .bind(month)
                    .bind(*limit)
                    .fetch_optional(conn)
                    .await
                })?;
            }
            Op::Refund { user_id, month } => {
                with_tx!(tx, |conn| {
                    sqlx::query(
                        "UPDATE usage SET used = used - 1 WHERE user_id = $1 AND month = $2 AND used > 0",
                    )
                    .bind(user_id)
                    .bind(month)
                    .execute(conn)
                    .await
                    .map(|_| ())
                })?;
            }
            Op::Record(record) => {
                records.push(record);
                at.push(i);
            }
        }
    }
    let counted = record_in(&mut tx, &records).await?;
    for (i, u) in at.into_iter().zip(counted) {
        used[i] = Some(u);
    }
    tx.commit().await?;
    Ok(used)
}

/// Stores `records` and counts those that count; per record, the questions
/// used after it (0 when it does not count).
async fn record_in(tx: &mut Tx, records: &[&Record]) -> Result<Vec<i64>, sqlx::Error> {
    let mut used: Vec<i64> = vec![0; records.len()];
    // The counts of one user and month go in one statement.
    let mut counted: Vec<(&str, &str, Vec<usize>)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        let Some(month) = &r.count else {
            continue;
        };
        match counted
            .iter_mut()
            .find(|(u, m, _)| *u == r.user_id && *m == month)
        {
            Some((_, _, members)) => members.push(i),
            None => counted.push((&r.user_id, month, vec![i])),
        }
    }
    for (user_id, month, members) in &counted {
        let k = members.len() as i64;
        let total: i64 = with_tx!(tx, |conn| {
            sqlx::query_scalar(
                "INSERT INTO usage (user_id, month, used) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, month) DO UPDATE SET used = usage.used + $3 RETURNING used",
            )
            .bind(*user_id)
            .bind(*month)
            .bind(k)
            .fetch_one(conn)
            .await
        })?;
        for (n, i) in members.iter().enumerate() {
            used[*i] = total - k + 1 + n as i64;
        }
    }
    let stored = records;
    if !stored.is_empty() {
        let new: Vec<&&Record> = stored.iter().filter(|r| r.title.is_some()).collect();
        if !new.is_empty() {
            let rows = (0..new.len())
                .map(|i| {
                    let b = i * 4;
                    format!(
                        "(${}, ${}, ${}, ${}, ${})",
                        b + 1,
                        b + 2,
                        b + 3,
                        b + 4,
                        b + 4
                    )
                })
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "INSERT INTO conversations (id, user_id, title, created_at, updated_at) VALUES {rows}"
            );
            with_tx!(tx, |conn| {
                let mut query = sqlx::query(&sql);
                for r in &new {
                    query = query
                        .bind(&r.conversation_id)
                        .bind(&r.user_id)
                        .bind(r.title.as_deref().unwrap_or(""))
                        .bind(r.now);
                }
                query.execute(conn).await.map(|_| ())
            })?;
        }
        let mut continued: Vec<&str> = stored
            .iter()
            .filter(|r| r.title.is_none())
            .map(|r| r.conversation_id.as_str())
            .collect();
        continued.sort_unstable();
        continued.dedup();
        if !continued.is_empty() {
            let now = stored.iter().map(|r| r.now).max().unwrap_or_default();
            let ids = (0..continued.len())
                .map(|i| format!("${}", i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!("UPDATE conversations SET updated_at = $1 WHERE id IN ({ids})");
            with_tx!(tx, |conn| {
                let mut query = sqlx::query(&sql).bind(now);
                for id in &continued {
                    query = query.bind(*id);
                }
                query.execute(conn).await.map(|_| ())
            })?;
        }
        let rows = platform::db::values_rows(tx.is_sqlite(), stored.len() * 2, 7);
        let sql = format!(
            "INSERT INTO messages (id, conversation_id, role, content, data, widget, created_at) VALUES {rows}"
        );
        with_tx!(tx, |conn| {
            let mut query = sqlx::query(&sql);
            for r in stored {
                query = query
                    .bind(&r.question_id)
                    .bind(&r.conversation_id)
                    .bind("user")
                    .bind(&r.question)
                    .bind(None::<String>)
                    .bind(None::<String>)
                    .bind(r.now)
                    .bind(&r.answer_id)
                    .bind(&r.conversation_id)
                    .bind("assistant")
                    .bind(&r.answer)
                    .bind(&r.data)
                    .bind(&r.widget)
                    .bind(r.now);
            }
            query.execute(conn).await.map(|_| ())
        })?;
    }
    Ok(used)
}

/// Deletes the stream tickets that expired before `now`.
pub async fn delete_expired_tickets(db: &Db, now: i64) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM stream_tickets WHERE expires_at < $1")
            .bind(now)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}

/// Keeps a stream ticket (its hash) until `expires_at`, dropping expired ones.
pub async fn put_ticket(
    db: &Db,
    ticket_hash: &str,
    session_id: &str,
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
            "INSERT INTO stream_tickets (ticket_hash, session_id, expires_at) VALUES ($1, $2, $3)",
        )
        .bind(ticket_hash)
        .bind(session_id)
        .bind(expires_at)
        .execute(conn)
        .await
        .map(|_| ())
    })?;
    tx.commit().await
}

/// Uses up a ticket: the session it was issued to, when it exists and has
/// not expired.
pub async fn take_ticket(
    db: &Db,
    ticket_hash: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row: Option<(String, i64)> = with_db!(db, |pool| {
        sqlx::query_as(
            "DELETE FROM stream_tickets WHERE ticket_hash = $1 RETURNING session_id, expires_at",
        )
        .bind(ticket_hash)
        .fetch_optional(pool)
        .await
    })?;
    Ok(row
        .filter(|(_, expires_at)| *expires_at > now)
        .map(|(session, _)| session))
}
