//! SQL of cron runs, written once for SQLite and PostgreSQL.

use crate::db::Db;
use crate::{with_db, with_write};

/// A run as stored.
#[derive(Debug, Clone, sqlx::FromRow)]
pub(super) struct RunRow {
    pub id: String,
    pub job: String,
    pub tick_at: i64,
    pub manual: bool,
    pub runner: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub outcome: String,
    pub error: Option<String>,
    pub progress: Option<String>,
}

pub(super) struct NewRun<'a> {
    pub id: &'a str,
    pub job: &'a str,
    pub tick_at: i64,
    pub manual: bool,
    pub runner: &'a str,
    pub now: i64,
}

/// Records the start of a run. For a scheduled tick the insert succeeds for
/// one replica only (the unique tick); false means another replica has it.
pub(super) async fn start(db: &Db, run: &NewRun<'_>) -> Result<bool, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "INSERT INTO platform_cron_runs (id, job, tick_at, manual, runner, started_at, heartbeat_at, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, 'running') ON CONFLICT DO NOTHING",
        )
        .bind(run.id)
        .bind(run.job)
        .bind(run.tick_at)
        .bind(run.manual)
        .bind(run.runner)
        .bind(run.now)
        .execute(pool)
        .await
        .map(|r| r.rows_affected() == 1)
    })
}

/// Is a run of `job` still alive (its heartbeat newer than `alive_since`)?
pub(super) async fn running(db: &Db, job: &str, alive_since: i64) -> Result<bool, sqlx::Error> {
    let count: i64 = with_db!(db, |pool| {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM platform_cron_runs WHERE job = $1 AND outcome = 'running' AND heartbeat_at > $2",
        )
        .bind(job)
        .bind(alive_since)
        .fetch_one(pool)
        .await
    })?;
    Ok(count > 0)
}

/// Marks runs whose runner stopped beating as abandoned.
pub(super) async fn abandon_stale(
    db: &Db,
    job: &str,
    alive_since: i64,
    now: i64,
) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE platform_cron_runs SET outcome = 'abandoned', finished_at = $1, \
             error = 'the replica running it stopped' \
             WHERE job = $2 AND outcome = 'running' AND heartbeat_at <= $3",
        )
        .bind(now)
        .bind(job)
        .bind(alive_since)
        .execute(pool)
        .await
        .map(|r| r.rows_affected())
    })
}

/// Beats for a run, with its progress when it reports one.
pub(super) async fn heartbeat(
    db: &Db,
    id: &str,
    now: i64,
    progress: Option<&str>,
) -> Result<(), sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE platform_cron_runs SET heartbeat_at = $1, progress = COALESCE($3, progress) \
             WHERE id = $2 AND outcome = 'running'",
        )
        .bind(now)
        .bind(id)
        .bind(progress)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

pub(super) async fn finish(
    db: &Db,
    id: &str,
    now: i64,
    error: Option<&str>,
    progress: Option<&str>,
) -> Result<(), sqlx::Error> {
    let outcome = if error.is_some() {
        "failed"
    } else {
        "succeeded"
    };
    with_write!(db, |pool| {
        sqlx::query(
            "UPDATE platform_cron_runs SET outcome = $1, finished_at = $2, heartbeat_at = $2, error = $3, \
             progress = COALESCE($5, progress) WHERE id = $4 AND outcome = 'running'",
        )
        .bind(outcome)
        .bind(now)
        .bind(error)
        .bind(id)
        .bind(progress)
        .execute(pool)
        .await
        .map(|_| ())
    })
}

const RUN_COLUMNS: &str =
    "id, job, tick_at, manual, runner, started_at, finished_at, outcome, error, progress";

/// The newest runs of `job`, newest first.
pub(super) async fn runs(db: &Db, job: &str, limit: i64) -> Result<Vec<RunRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {RUN_COLUMNS} FROM platform_cron_runs WHERE job = $1 ORDER BY started_at DESC, id DESC LIMIT $2"
    );
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(job)
        .bind(limit)
        .fetch_all(pool)
        .await)
}

pub(super) async fn run(db: &Db, id: &str) -> Result<Option<RunRow>, sqlx::Error> {
    let sql = format!("SELECT {RUN_COLUMNS} FROM platform_cron_runs WHERE id = $1");
    with_db!(db, |pool| sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)
}

/// Deletes finished runs that started before `before_ms`.
pub(super) async fn prune(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
    with_write!(db, |pool| {
        sqlx::query("DELETE FROM platform_cron_runs WHERE started_at < $1 AND outcome <> 'running'")
            .bind(before_ms)
            .execute(pool)
            .await
            .map(|r| r.rows_affected())
    })
}
