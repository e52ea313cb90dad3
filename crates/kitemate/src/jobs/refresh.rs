//! The daily refresh (`daily-refresh`, 18:00 India time on NSE's trading
//! days): the day's closing prices first, then a sync of every user whose
//! Kite session is alive (through the Kite limits every user shares), then
//! a closing snapshot of every user with holdings. A run that stops part
//! way (a crash, a deploy) is run again: users synced after the close and
//! users whose snapshot of the day is recorded are not done twice.

use std::collections::HashSet;

use chrono::{NaiveDate, NaiveTime, TimeDelta};
use futures_util::StreamExt as _;
use platform::clock::{Clock, IST};
use platform::cron::Progress;

use crate::auth::AuthService;
use crate::market::{MarketService, NIFTY_50};
use crate::portfolio::PortfolioService;

/// Users read a page at a time.
const PAGE: i64 = 1_000;
/// Syncs in flight: enough to keep Kite's shared turns busy while each
/// waits for its four answers (the turns, not this, set the pace).
const SYNCS_IN_FLIGHT: usize = 24;
/// Users whose closing snapshots are written in one transaction.
const SNAPSHOT_BATCH: usize = 250;
/// Days before today whose missing price files are fetched too.
const CATCH_UP_DAYS: i64 = 7;

/// What the refresh drives.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub market: MarketService,
    pub portfolio: PortfolioService,
    pub auth: AuthService,
    pub clock: Clock,
}

/// How a run went, for its log line.
#[derive(Debug, Default)]
pub struct Outcome {
    pub files: usize,
    pub synced: usize,
    pub sync_failed: usize,
    pub snapshots: usize,
}

/// The start of the Kite sessions alive now: the last 06:00 India time.
pub fn sessions_since(clock: &Clock) -> chrono::DateTime<chrono::Utc> {
    let now = clock.now_ist();
    let six = NaiveTime::from_hms_opt(6, 0, 0).unwrap_or_default();
    let day = if now.time() >= six {
        now.date_naive()
    } else {
        now.date_naive() - TimeDelta::days(1)
    };
    day.and_time(six)
        .and_local_timezone(IST)
        .earliest()
        .map_or_else(|| clock.now(), |t| t.with_timezone(&chrono::Utc))
}

impl Refresh {
    pub async fn run(&self, progress: &Progress) -> anyhow::Result<Outcome> {
        let day = self.clock.today_ist();
        if !self.market.calendar().is_trading_day(day) {
            tracing::info!(%day, "NSE does not trade today; nothing to refresh");
            return Ok(Outcome::default());
        }
        let mut outcome = Outcome::default();
        let missing = self.prices(day, progress, &mut outcome).await?;
        self.sync(day, progress, &mut outcome).await?;
        // Without the day's closes a snapshot would value at yesterday's:
        // the run fails here, and the next run (or one by hand once the
        // files are in) records them.
        if let Some(missing) = missing {
            anyhow::bail!("the closing prices of {day} are not all in: {missing}");
        }
        self.snapshots(day, progress, &mut outcome).await?;
        tracing::info!(%day, files = outcome.files, synced = outcome.synced,
            sync_failed = outcome.sync_failed, snapshots = outcome.snapshots, "daily refresh done");
        Ok(outcome)
    }

    /// Loads the day's files (and any missed in the week before); says
    /// what is missing of the day's required ones.
    async fn prices(
        &self,
        day: NaiveDate,
        progress: &Progress,
        outcome: &mut Outcome,
    ) -> anyhow::Result<Option<String>> {
        if !self.market.fetches() {
            let loaded = self.market.priced_days(day, day).await?;
            return Ok(loaded.is_empty().then(|| {
                "fetching is off (market.fetch = false) and no bhavcopy of the day was loaded with `kitemate prices load`".to_string()
            }));
        }
        let fetched = self
            .market
            .fetch_days(day - TimeDelta::days(CATCH_UP_DAYS), day, |done, total| {
                progress.set("prices", done as u64, total as u64);
            })
            .await?;
        outcome.files = fetched.loaded.len() + fetched.actions.len();
        for (feed, why) in &fetched.failed {
            tracing::warn!(feed = feed.as_str(), why, "a price file did not load");
        }
        let today: Vec<String> = fetched
            .failed
            .iter()
            .filter(|(feed, why)| feed.required() && why.contains(&day.to_string()))
            .map(|(_, why)| why.clone())
            .collect();
        Ok((!today.is_empty()).then(|| today.join("; ")))
    }

    /// Syncs every user with a live Kite session not synced since the close.
    async fn sync(
        &self,
        day: NaiveDate,
        progress: &Progress,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let done: HashSet<String> = self
            .portfolio
            .synced_since(crate::portfolio::at_close(day))
            .await?;
        let mut users = self.live_users().await?;
        users.retain(|u| !done.contains(u));
        let total = users.len() as u64;
        progress.set("sync", 0, total);
        // Each future owns what it uses: a stream of borrowing closures is
        // not `Send` for every lifetime, which a spawned job must be.
        let portfolio = self.portfolio.clone();
        let mut syncs = futures_util::stream::iter(users)
            .map(move |user_id| {
                let portfolio = portfolio.clone();
                async move {
                    let result = portfolio.sync(&user_id).await;
                    (user_id, result)
                }
            })
            .buffer_unordered(SYNCS_IN_FLIGHT);
        let mut finished = 0;
        while let Some((user_id, result)) = syncs.next().await {
            finished += 1;
            match result {
                Ok(_) => outcome.synced += 1,
                Err(err) => {
                    // One user's failure is theirs; the others go on.
                    outcome.sync_failed += 1;
                    tracing::warn!(user_id, error = %err.message, "daily sync failed");
                }
            }
            progress.set("sync", finished, total);
        }
        Ok(())
    }

    /// Records the day's end of every user with holdings not recorded yet.
    async fn snapshots(
        &self,
        day: NaiveDate,
        progress: &Progress,
        outcome: &mut Outcome,
    ) -> anyhow::Result<()> {
        let nifty = self
            .market
            .index(NIFTY_50, day, day)
            .await?
            .first()
            .map(|(_, close)| *close);
        let done = self.portfolio.closed_users(day).await?;
        let mut users = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.portfolio.users_after(&after, PAGE).await?;
            let Some(last) = page.last().cloned() else {
                break;
            };
            users.extend(page.into_iter().filter(|u| !done.contains(u)));
            after = last;
        }
        let total = users.len() as u64;
        progress.set("snapshots", 0, total);
        let mut finished = 0;
        for batch in users.chunks(SNAPSHOT_BATCH) {
            outcome.snapshots += self.portfolio.record_closes(batch, day, nifty).await?;
            finished += batch.len() as u64;
            progress.set("snapshots", finished, total);
        }
        Ok(())
    }
}

/// Market hours on NSE: 09:15 to 15:30 India time.
fn market_open(clock: &Clock) -> bool {
    let now = clock.now_ist().time();
    let open = NaiveTime::from_hms_opt(9, 15, 0).unwrap_or_default();
    let close = NaiveTime::from_hms_opt(15, 30, 0).unwrap_or_default();
    (open..=close).contains(&now)
}

impl Refresh {
    /// During market hours on a trading day, reads the last price of what
    /// users with live Kite sessions hold; answers how many prices were kept.
    pub async fn live_prices(&self) -> anyhow::Result<usize> {
        if !market_open(&self.clock)
            || !self
                .market
                .calendar()
                .is_trading_day(self.clock.today_ist())
        {
            return Ok(0);
        }
        let users = self.live_users().await?;
        Ok(self.portfolio.refresh_live_prices(&users).await?)
    }

    /// Every user whose Kite session is alive, read a page at a time.
    async fn live_users(&self) -> anyhow::Result<Vec<String>> {
        let since = sessions_since(&self.clock);
        let mut users = Vec::new();
        let mut after = String::new();
        loop {
            let page = self.auth.live_kite_users(since, &after, PAGE).await?;
            let Some(last) = page.last().cloned() else {
                return Ok(users);
            };
            users.extend(page);
            after = last;
        }
    }
}
