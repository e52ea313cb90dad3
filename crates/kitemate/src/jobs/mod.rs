//! The jobs service: schedules that drive the other services (the daily
//! refresh after the market closes, the morning sweep of ended Kite
//! sessions) and keep the platform's records tidy. Its database holds the
//! record of every cron run (the platform's tables; none of its own).

mod housekeeping;
mod refresh;

use std::sync::Arc;

use chrono::TimeDelta;
use platform::clock::{Clock, IST};
use platform::cron::{Cron, Schedule};
use platform::db::{DatabaseDecl, Db};
use platform::pubsub::prune_processed;
use platform::service::{Declaration, Mount};
use sqlx::migrate::Migrator;

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

/// The jobs service: platform upkeep; other services declare their own jobs
/// in their `mount`.
pub static SERVICE: Declaration = Declaration {
    name: "jobs",
    description: "Scheduled work",
    databases: &[&DATABASE],
    buckets: &[],
    topics: &[],
    settings: &["cron"],
    spec: utoipa::openapi::OpenApi::default,
};

pub use housekeeping::Housekeeping;
pub use refresh::{Refresh, sessions_since};

/// Registers the refresh, the sweep and the upkeep jobs; `databases` are every service's.
pub fn mount(
    cron: &Cron,
    databases: Arc<[Db]>,
    clock: Clock,
    refresh: Refresh,
    housekeeping: Housekeeping,
) -> anyhow::Result<Mount> {
    housekeeping.schedule(cron)?;
    let daily = refresh.clone();
    cron.add_reporting(
        "daily-refresh",
        "After the close on NSE trading days: load the day's closing prices, sync every live Kite session, record every user's day",
        Schedule::cron("0 18 * * 1-5")?,
        IST,
        move |progress| {
            let refresh = daily.clone();
            async move { refresh.run(&progress).await.map(drop) }
        },
    )?;
    let live = refresh.clone();
    cron.add(
        "live-prices",
        "Every minute of NSE's market hours: Kite's last prices for what users with live sessions hold",
        Schedule::cron("* 9-15 * * 1-5")?,
        IST,
        move || {
            let live = live.clone();
            async move {
                let kept = live.live_prices().await?;
                tracing::debug!(kept, "live prices read");
                Ok(())
            }
        },
    )?;
    let sweep = refresh;
    cron.add(
        "zerodha-reauth-sweep",
        "At 06:00 IST, when Kite ends every session: mark the links that need a new login and tell their users",
        Schedule::cron("0 6 * * *")?,
        IST,
        move || {
            let sweep = sweep.clone();
            async move {
                let ended = sweep.auth.expire_kite_sessions(sessions_since(&sweep.clock)).await?;
                tracing::info!(ended, "Kite sessions ended overnight");
                Ok(())
            }
        },
    )?;
    let runs = cron.clone();
    cron.add(
        "prune-records",
        "Forget pub/sub dedupe records after a week and cron runs after a month",
        Schedule::cron("30 3 * * *")?,
        IST,
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
    Ok(Mount::new(&SERVICE, axum::Router::new()))
}
