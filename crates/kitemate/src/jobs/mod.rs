//! The jobs service: schedules that drive other services and keep the
//! platform's records tidy. Its database holds the record of every cron run
//! (the platform's tables; none of its own yet).

use std::sync::Arc;

use chrono::TimeDelta;
use chrono_tz::Tz;
use platform::clock::Clock;
use platform::cron::{Cron, Schedule, time_zone};
use platform::db::{DatabaseDecl, Db};
use platform::pubsub::prune_processed;
use sqlx::migrate::Migrator;

use crate::auth::AuthService;

/// The jobs service's database: where cron runs and their leases live.
pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "jobs",
    sqlite: Migrator::DEFAULT,
    postgres: Migrator::DEFAULT,
};

/// Dedupe records of exactly-once subscriptions are kept this long.
const KEEP_PROCESSED_DAYS: i64 = 7;
/// Cron run records are kept this long.
const KEEP_RUNS_DAYS: i64 = 30;

/// Declares every job of the product.
pub fn register(
    cron: &Cron,
    auth: &AuthService,
    databases: &Arc<Vec<Db>>,
    clock: Clock,
) -> anyhow::Result<()> {
    let databases = Arc::clone(databases);
    let runs = cron.clone();
    cron.add(
        "prune-records",
        "Forget pub/sub dedupe records after a week and cron runs after a month",
        Schedule::cron("30 3 * * *")?,
        time_zone("Asia/Kolkata")?,
        move || {
            let (runs, databases, now) = (runs.clone(), databases.clone(), clock.now());
            async move {
                let mut processed = 0;
                for db in databases.iter() {
                    processed +=
                        prune_processed(db, now - TimeDelta::days(KEEP_PROCESSED_DAYS)).await?;
                }
                let runs = runs
                    .prune_runs(now - TimeDelta::days(KEEP_RUNS_DAYS))
                    .await?;
                tracing::info!(processed, runs, "old records pruned");
                Ok(())
            }
        },
    )?;
    let auth = auth.clone();
    cron.add(
        "tidy-sessions",
        "Delete sessions that expired or were revoked over a day ago",
        Schedule::every("1h")?,
        Tz::UTC,
        move || {
            let auth = auth.clone();
            async move {
                let deleted = auth.tidy().await.map_err(|e| anyhow::anyhow!("{e}"))?;
                tracing::info!(deleted, "sessions tidied");
                Ok(())
            }
        },
    )
}
