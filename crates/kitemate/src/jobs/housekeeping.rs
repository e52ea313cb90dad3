//! Upkeep of what the services leave behind: expired login states and
//! stream tickets, uploaded files past their retention or pointed at by
//! nothing, old notices. Each service does its own deleting; this module
//! schedules it.

use chrono::TimeDelta;
use platform::clock::{Clock, IST};
use platform::cron::{Cron, Schedule};

use crate::auth::AuthService;
use crate::chat::ChatService;
use crate::portfolio::PortfolioService;
use crate::social::SocialService;

/// A stored file no import points at is deleted after this long.
const ORPHAN_GRACE_HOURS: i64 = 24;

/// The services whose leftovers are tidied.
#[derive(Debug, Clone)]
pub struct Housekeeping {
    pub auth: AuthService,
    pub chat: ChatService,
    pub portfolio: PortfolioService,
    pub social: SocialService,
    pub clock: Clock,
    /// `portfolio.keep_import_files_days`; 0 keeps the files.
    pub keep_import_files_days: u32,
}

impl Housekeeping {
    pub fn schedule(self, cron: &Cron) -> anyhow::Result<()> {
        let this = self.clone();
        cron.add(
            "tidy-logins",
            "Delete expired Zerodha login states and hand-offs, and unused chat stream tickets",
            Schedule::every("1h")?,
            chrono_tz::Tz::UTC,
            move || {
                let this = this.clone();
                async move {
                    let states = this.auth.tidy_zerodha().await?;
                    let tickets = this.chat.tidy_tickets().await?;
                    tracing::info!(states, tickets, "expired logins tidied");
                    Ok(())
                }
            },
        )?;
        let this = self.clone();
        cron.add(
            "expire-import-files",
            "Delete uploaded Console files older than portfolio.keep_import_files_days (the imports stay)",
            Schedule::cron("0 3 * * *")?,
            IST,
            move || {
                let this = this.clone();
                async move {
                    if this.keep_import_files_days == 0 {
                        return Ok(());
                    }
                    let before = this.clock.now()
                        - TimeDelta::days(i64::from(this.keep_import_files_days));
                    let deleted = this.portfolio.expire_import_files(before).await?;
                    tracing::info!(deleted, "import files past their retention deleted");
                    Ok(())
                }
            },
        )?;
        let this = self.clone();
        cron.add(
            "sweep-orphan-files",
            "Delete uploaded files no import points at, a day after they were written",
            Schedule::cron("15 3 * * *")?,
            IST,
            move || {
                let this = this.clone();
                async move {
                    let before = this.clock.now() - TimeDelta::hours(ORPHAN_GRACE_HOURS);
                    let deleted = this.portfolio.sweep_orphan_files(before).await?;
                    tracing::info!(deleted, "orphan files deleted");
                    Ok(())
                }
            },
        )?;
        let this = self;
        cron.add(
            "prune-notices",
            "Delete read notices after 90 days and any notice after a year",
            Schedule::cron("45 3 * * *")?,
            IST,
            move || {
                let this = this.clone();
                async move {
                    let deleted = this.social.prune_notices().await?;
                    tracing::info!(deleted, "old notices pruned");
                    Ok(())
                }
            },
        )
    }
}
