//! SQL of blocks and reports.

use platform::db::{Db, Tx};
use platform::{with_db, with_tx};

/// Whether either user blocked the other.
pub(super) async fn blocked_between(db: &Db, a: &str, b: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM blocks WHERE (blocker_id = $1 AND blocked_id = $2) \
             OR (blocker_id = $2 AND blocked_id = $1)",
        )
        .bind(a)
        .bind(b)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

/// Whether `blocker` blocked `blocked`.
pub(super) async fn blocks(db: &Db, blocker: &str, blocked: &str) -> Result<bool, sqlx::Error> {
    with_db!(db, |pool| {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM blocks WHERE blocker_id = $1 AND blocked_id = $2",
        )
        .bind(blocker)
        .bind(blocked)
        .fetch_one(pool)
        .await
        .map(|n| n > 0)
    })
}

pub(super) async fn block(
    tx: &mut Tx,
    blocker: &str,
    blocked: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (blocker_id, blocked_id) DO NOTHING",
        )
        .bind(blocker)
        .bind(blocked)
        .bind(now)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}

pub(super) async fn unblock(tx: &mut Tx, blocker: &str, blocked: &str) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query("DELETE FROM blocks WHERE blocker_id = $1 AND blocked_id = $2")
            .bind(blocker)
            .bind(blocked)
            .execute(&mut *conn)
            .await
            .map(|_| ())
    })
}

#[derive(Debug, sqlx::FromRow)]
pub(super) struct ReportRow {
    pub id: String,
    pub reporter_id: String,
    pub target_kind: String,
    pub target_id: String,
    pub reason: String,
    pub note: String,
    pub status: String,
    pub created_at: i64,
}

const REPORT_COLUMNS: &str =
    "id, reporter_id, target_kind, target_id, reason, note, status, created_at";

/// Files a report; the id of the open one when this reporter has already
/// reported this target.
pub(super) async fn report(tx: &mut Tx, row: &ReportRow) -> Result<String, sqlx::Error> {
    with_tx!(tx, |conn| {
        let open = sqlx::query_scalar::<_, String>(
            "SELECT id FROM reports WHERE reporter_id = $1 AND target_kind = $2 \
             AND target_id = $3 AND status = 'open'",
        )
        .bind(&row.reporter_id)
        .bind(&row.target_kind)
        .bind(&row.target_id)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(id) = open {
            return Ok(id);
        }
        sqlx::query(&format!(
            "INSERT INTO reports ({REPORT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        ))
        .bind(&row.id)
        .bind(&row.reporter_id)
        .bind(&row.target_kind)
        .bind(&row.target_id)
        .bind(&row.reason)
        .bind(&row.note)
        .bind(&row.status)
        .bind(row.created_at)
        .execute(&mut *conn)
        .await?;
        Ok(row.id.clone())
    })
}

/// A page of reports in `status`, oldest first after `after`.
pub(super) async fn reports(
    db: &Db,
    status: &str,
    after: Option<&str>,
    limit: i64,
) -> Result<(Vec<ReportRow>, bool), sqlx::Error> {
    let cond = if after.is_some() { "AND id > $3 " } else { "" };
    let sql = format!(
        "SELECT {REPORT_COLUMNS} FROM reports WHERE status = $1 {cond}ORDER BY id LIMIT $2"
    );
    let rows: Vec<ReportRow> = with_db!(db, |pool| {
        let query = sqlx::query_as::<_, ReportRow>(&sql)
            .bind(status)
            .bind(limit + 1);
        match after {
            Some(after) => query.bind(after),
            None => query,
        }
        .fetch_all(pool)
        .await
    })?;
    Ok(platform::db::page_of(rows, limit))
}

pub(super) async fn report_by_id(tx: &mut Tx, id: &str) -> Result<Option<ReportRow>, sqlx::Error> {
    let lock = if tx.is_sqlite() { "" } else { " FOR UPDATE" };
    with_tx!(tx, |conn| {
        sqlx::query_as::<_, ReportRow>(&format!(
            "SELECT {REPORT_COLUMNS} FROM reports WHERE id = $1{lock}"
        ))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await
    })
}

/// Resolves every open report of the target as `status`.
pub(super) async fn resolve(
    tx: &mut Tx,
    target_kind: &str,
    target_id: &str,
    status: &str,
    by: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    with_tx!(tx, |conn| {
        sqlx::query(
            "UPDATE reports SET status = $1, resolved_by = $2, resolved_at = $3 \
             WHERE target_kind = $4 AND target_id = $5 AND status = 'open'",
        )
        .bind(status)
        .bind(by)
        .bind(now)
        .bind(target_kind)
        .bind(target_id)
        .execute(&mut *conn)
        .await
        .map(|_| ())
    })
}
