//! SQL of the outbox, written once for SQLite and PostgreSQL.

use crate::db::{Db, Pool, Tx, TxConn};
use crate::{with_db, with_tx, with_write};

/// One claimed delivery: a message for one subscription.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct Row {
    pub message_id: String,
    pub payload: String,
    pub published_at: i64,
    /// Deliveries so far, this one included.
    pub attempts: i32,
    /// Until when this delivery holds the message (its `locked_until`).
    pub lease: i64,
}

/// A dead letter as the admin API shows it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct DeadRow {
    pub message_id: String,
    pub payload: String,
    pub published_at: i64,
    pub attempts: i32,
    pub last_error: Option<String>,
}

fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// One outbox row to write: a message for one subscription.
pub(super) struct NewRow<'a> {
    pub message_id: &'a str,
    pub subscription: &'static str,
    pub payload: &'a str,
    /// Pre-leased to this process (it hands the message to its own
    /// dispatcher in memory), or 0 for any replica to claim.
    pub locked_until: i64,
    /// 1 when pre-leased (that delivery is under way), else 0.
    pub attempts: i32,
}

/// Most rows in one INSERT: SQLite allows 32766 bound values, 5 per row here.
const ROWS_PER_INSERT: usize = 1000;

/// Writes the outbox rows inside the publisher's transaction.
pub(super) async fn insert(
    tx: &mut Tx,
    topic: &str,
    rows: &[NewRow<'_>],
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    const COLUMNS: &str = "(message_id, subscription, topic, payload, published_at, next_attempt_at, locked_until, attempts)";
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        match tx.conn() {
            TxConn::Sqlite(conn) => {
                // Anonymous `?` parameters: SQLite finds a numbered one's
                // name by walking them all, quadratic in large statements.
                let sql = format!(
                    "INSERT INTO platform_outbox {COLUMNS} VALUES {}",
                    vec!["(?, ?, ?, ?, ?, ?, ?, ?)"; chunk.len()].join(", ")
                );
                let mut query = sqlx::query(&sql);
                for row in chunk {
                    query = query
                        .bind(row.message_id)
                        .bind(row.subscription)
                        .bind(topic)
                        .bind(row.payload)
                        .bind(now_ms)
                        .bind(now_ms)
                        .bind(row.locked_until)
                        .bind(row.attempts);
                }
                query.execute(&mut **conn).await?;
            }
            TxConn::Postgres(conn) => {
                let values: Vec<String> = (0..chunk.len())
                    .map(|i| {
                        let b = 3 + i * 5;
                        format!(
                            "(${b}, ${}, $1, ${}, $2, $2, ${}, ${})",
                            b + 1,
                            b + 2,
                            b + 3,
                            b + 4
                        )
                    })
                    .collect();
                let sql = format!(
                    "INSERT INTO platform_outbox {COLUMNS} VALUES {}",
                    values.join(", ")
                );
                let mut query = sqlx::query(&sql).bind(topic).bind(now_ms);
                for row in chunk {
                    query = query
                        .bind(row.message_id)
                        .bind(row.subscription)
                        .bind(row.payload)
                        .bind(row.locked_until)
                        .bind(row.attempts);
                }
                query.execute(&mut **conn).await?;
            }
        }
    }
    Ok(())
}

/// Leases up to `limit` due messages of `subscription` until `lease_until`.
/// PostgreSQL skips rows another replica is claiming; SQLite has one writer.
pub(super) async fn claim(
    db: &Db,
    subscription: &str,
    now_ms: i64,
    lease_until: i64,
    limit: i64,
) -> Result<Vec<Row>, sqlx::Error> {
    let lock = match db.pool() {
        Pool::Sqlite(_) => "",
        Pool::Postgres(_) => "FOR UPDATE SKIP LOCKED",
    };
    let sql = format!(
        "UPDATE platform_outbox SET locked_until = $1, attempts = attempts + 1 \
         WHERE subscription = $2 AND message_id IN ( \
             SELECT message_id FROM platform_outbox \
             WHERE subscription = $2 AND dead = FALSE AND next_attempt_at <= $3 AND locked_until <= $3 \
             ORDER BY next_attempt_at, message_id LIMIT $4 {lock}) \
         RETURNING message_id, payload, published_at, attempts, locked_until AS lease"
    );
    with_write!(db, |pool| {
        sqlx::query_as(&sql)
            // Planned afresh each time: a plan cached while the outbox was
            // empty (a sequential scan) costs a second per call once it is not.
            .persistent(false)
            .bind(lease_until)
            .bind(subscription)
            .bind(now_ms)
            .bind(limit)
            .fetch_all(pool)
            .await
    })
}

/// Removes handled messages.
pub(super) async fn ack(db: &Db, subscription: &str, ids: &[String]) -> Result<(), sqlx::Error> {
    if ids.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "DELETE FROM platform_outbox WHERE subscription = $1 AND message_id IN ({})",
        placeholders(2, ids.len())
    );
    with_write!(db, |pool| {
        // Not cached, like the claim: see there.
        let mut query = sqlx::query(&sql).persistent(false).bind(subscription);
        for id in ids {
            query = query.bind(id);
        }
        query.execute(pool).await.map(|_| ())
    })
}

/// Records a failed delivery: retry at `next_attempt_at`, or dead-letter it.
/// Only while the delivery still holds its lease: a late failure must not
/// disturb a later delivery of the same message.
pub(super) async fn fail(
    db: &Db,
    subscription: &str,
    message_id: &str,
    lease: i64,
    next_attempt_at: i64,
    dead: bool,
    error: &str,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE platform_outbox SET next_attempt_at = $2, locked_until = 0, dead = $3, last_error = $4 \
             WHERE subscription = $5 AND message_id = $6 AND locked_until = $1",
        )
        .bind(lease)
        .bind(next_attempt_at)
        .bind(dead)
        .bind(error)
        .bind(subscription)
        .bind(message_id)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// (messages waiting, dead letters) of a subscription.
pub(super) async fn counts(db: &Db, subscription: &str) -> Result<(i64, i64), sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT COALESCE(SUM(CASE WHEN dead THEN 0 ELSE 1 END), 0), \
                    COALESCE(SUM(CASE WHEN dead THEN 1 ELSE 0 END), 0) \
             FROM platform_outbox WHERE subscription = $1",
        )
        .bind(subscription)
        .fetch_one(pool)
        .await
    })
}

pub(super) async fn dead_letters(
    db: &Db,
    subscription: &str,
    limit: i64,
) -> Result<Vec<DeadRow>, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_as(
            "SELECT message_id, payload, published_at, attempts, last_error FROM platform_outbox \
             WHERE subscription = $1 AND dead = TRUE ORDER BY published_at, message_id LIMIT $2",
        )
        .bind(subscription)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Puts every dead letter of `subscription` back in line; returns how many.
pub(super) async fn redeliver(
    db: &Db,
    subscription: &str,
    now_ms: i64,
) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE platform_outbox SET dead = FALSE, attempts = 0, next_attempt_at = $1, locked_until = 0 \
             WHERE subscription = $2 AND dead = TRUE",
        )
        .bind(now_ms)
        .bind(subscription)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Keeps a message that ran out of attempts elsewhere (in NATS) as a dead
/// letter, so the admin API lists and redelivers it like any other.
pub(super) async fn bury(
    db: &Db,
    topic: &str,
    subscription: &str,
    row: &DeadRow,
    now_ms: i64,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO platform_outbox \
             (message_id, subscription, topic, payload, published_at, attempts, next_attempt_at, locked_until, dead, last_error) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, 0, TRUE, $8) \
             ON CONFLICT (message_id, subscription) DO UPDATE SET dead = TRUE, attempts = $6, last_error = $8, locked_until = 0",
        )
        .bind(&row.message_id)
        .bind(subscription)
        .bind(topic)
        .bind(&row.payload)
        .bind(row.published_at)
        .bind(row.attempts)
        .bind(now_ms)
        .bind(&row.last_error)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

/// Records that `subscription` applied `message_id` inside the handler's
/// transaction; false when it had already been applied.
pub(super) async fn mark_processed(
    tx: &mut Tx,
    subscription: &str,
    message_id: &str,
    now_ms: i64,
) -> Result<bool, sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO platform_processed (subscription, message_id, processed_at) VALUES ($1, $2, $3) \
             ON CONFLICT (subscription, message_id) DO NOTHING",
        )
        .bind(subscription)
        .bind(message_id)
        .bind(now_ms)
        .execute(conn)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Forgets dedupe records older than `before_ms`.
pub(super) async fn prune_processed(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM platform_processed WHERE processed_at < $1")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
