//! The jobs service: schedules that drive other services. Its database holds
//! the record of every cron run (the platform's tables; none of its own yet).

use chrono_tz::Tz;
use platform::cron::{Cron, Schedule};
use platform::db::DatabaseDecl;
use sqlx::migrate::Migrator;

use crate::auth::AuthService;

/// The jobs service's database: where cron runs and their leases live.
pub static DATABASE: DatabaseDecl = DatabaseDecl {
    name: "jobs",
    sqlite: Migrator::DEFAULT,
    postgres: Migrator::DEFAULT,
};

/// Declares every job of the product.
pub fn register(cron: &Cron, auth: &AuthService) -> anyhow::Result<()> {
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
