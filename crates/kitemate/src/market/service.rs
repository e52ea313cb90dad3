//! What market data does: loads files whole, answers closing prices and
//! index values, and fetches the days that are missing.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::NaiveDate;
use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;
use rust_decimal::Decimal;
use serde::Serialize;

use super::calendar::Calendar;
use super::formats::{self, FormatError, Parsed, SCALE, Source};
use super::model::{ActionKind, CorporateAction, FeedInfo, LoadInfo, MarketStatus};
use super::sources::{Feed, Sources};
use super::store;

/// The day whose highest price is a listed share's fair market value for
/// grandfathering (s.55(2)(ac)).
pub const FMV_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2018, 1, 31) {
    Some(day) => day,
    None => panic!("a real date"),
};

/// What loading a corporate-actions file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionsReport {
    pub file: String,
    /// Splits, consolidations and bonuses read and stored.
    pub actions: usize,
    /// Demergers and amalgamations the file names without their terms:
    /// declare them (`POST /portfolio/corporate-actions`) to apply them.
    pub need_terms: Vec<String>,
    /// Rows that change no share count (dividends, meetings, interest).
    pub skipped: usize,
}

/// NSE's name for the index returns are compared with.
pub const NIFTY_50: &str = "Nifty 50";

/// A security's closing price on a day, and who published it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    pub close: Decimal,
    pub day: NaiveDate,
    pub source: Source,
}

/// What loading one file did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LoadReport {
    pub file: String,
    pub layout: &'static str,
    pub days: Vec<NaiveDate>,
    pub closes: usize,
    pub indices: usize,
    pub skipped: usize,
    /// The same file (by its SHA-256) was loaded before; nothing changed.
    pub already_loaded: bool,
}

/// Why a file was not loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{file}: {error}")]
    Format { file: String, error: FormatError },
    #[error(transparent)]
    Store(#[from] sqlx::Error),
}

impl From<LoadError> for ApiError {
    fn from(err: LoadError) -> Self {
        match err {
            LoadError::Format { error, .. } => ApiError::invalid_field("file", error.0),
            LoadError::Store(err) => ApiError::internal(err),
        }
    }
}

/// What fetching one day did, feed by feed.
#[derive(Debug, Default)]
pub struct DayFetch {
    pub loaded: Vec<LoadReport>,
    /// Files of those days loaded before.
    pub had: usize,
    /// Feeds that failed or are not published, with why.
    pub failed: Vec<(Feed, String)>,
    /// Corporate-actions files loaded.
    pub actions: Vec<ActionsReport>,
}

impl DayFetch {
    /// Whether the day has what valuing needs (NSE's equities and indices).
    pub fn complete(&self) -> bool {
        !self.failed.iter().any(|(feed, _)| feed.required())
    }
}

#[derive(Debug, Clone)]
pub struct MarketService {
    db: Db,
    clock: Clock,
    calendar: Arc<Calendar>,
    sources: Option<Sources>,
}

fn rupees(e4: i64) -> Decimal {
    Decimal::new(e4, SCALE).normalize()
}

fn day_of(text: &str) -> Option<NaiveDate> {
    text.parse().ok()
}

/// A close as stored, read back; `None` when the row does not read.
fn price(day: &str, close_e4: i64, source: &str) -> Option<Price> {
    Some(Price {
        close: rupees(close_e4),
        day: day_of(day)?,
        source: Source::parse(source)?,
    })
}

/// The actions of an NSE corporate-actions file as they would be stored
/// and read back: what a load would add, without storing it.
pub fn read_actions_file(bytes: &[u8]) -> Result<Vec<CorporateAction>, FormatError> {
    Ok(formats::parse_actions(bytes)?
        .actions
        .iter()
        .map(action_row)
        .filter_map(stored_action)
        .collect())
}

/// A file's action as stored: keyed by symbol, as NSE names it.
fn action_row(action: &formats::actions::ParsedAction) -> store::ActionRow {
    use formats::actions::Announced;
    let (kind, new, old) = match action.announced {
        Announced::Split { new, old } if new > old => (ActionKind::Split, new, old),
        Announced::Split { new, old } => (ActionKind::Consolidation, new, old),
        Announced::Bonus { new, held } => (ActionKind::Bonus, new, held),
    };
    let key = format!("symbol:{}", action.symbol);
    store::ActionRow {
        id: platform::crypto::sha256_hex(
            format!("{key}|{}|{}", kind.as_str(), action.ex_date).as_bytes(),
        )[..24]
            .to_string(),
        key,
        symbol: action.symbol.clone(),
        kind: kind.as_str().to_string(),
        ex_date: action.ex_date.to_string(),
        allotted_on: (kind == ActionKind::Bonus).then(|| action.allotted_on.to_string()),
        ratio_new: i64::from(new),
        ratio_old: i64::from(old),
        into_isin: None,
        into_symbol: None,
        cost_share: None,
        source: "nse".into(),
        note: action.purpose.clone(),
    }
}

/// A stored action read back; `None` when the row does not read.
fn stored_action(row: store::ActionRow) -> Option<CorporateAction> {
    Some(CorporateAction {
        isin: (!row.key.starts_with("symbol:")).then(|| row.key.clone()),
        kind: ActionKind::parse(&row.kind)?,
        ex_date: day_of(&row.ex_date)?,
        allotted_on: row.allotted_on.as_deref().and_then(day_of),
        ratio_new: u32::try_from(row.ratio_new).ok()?,
        ratio_old: u32::try_from(row.ratio_old).ok()?,
        cost_share_percent: row.cost_share.as_deref().and_then(|c| c.parse().ok()),
        id: row.id,
        symbol: row.symbol,
        into_isin: row.into_isin,
        into_symbol: row.into_symbol,
        source: row.source,
        note: row.note,
    })
}

impl MarketService {
    pub fn new(db: Db, clock: Clock, calendar: Calendar, sources: Option<Sources>) -> Self {
        Self {
            db,
            clock,
            calendar: Arc::new(calendar),
            sources,
        }
    }

    pub fn calendar(&self) -> &Calendar {
        &self.calendar
    }

    /// Loads one file (a bhavcopy, a NAV file, index closes; zipped or not)
    /// in one transaction: all of it or, when any line is malformed, none.
    pub async fn load(&self, file: &str, bytes: Vec<u8>) -> Result<LoadReport, LoadError> {
        let mut loaded = self.load_many(vec![(file.to_string(), bytes)]).await?;
        loaded.pop().unwrap_or_else(|| {
            Err(LoadError::Format {
                file: file.to_string(),
                error: FormatError("nothing was read".into()),
            })
        })
    }

    /// Loads several files, each whole or not at all: the malformed ones
    /// are answered with their error and the rest stored in one
    /// transaction (a back-fill's days land together, and each security's
    /// newest close is moved once). Answers in `files`' order.
    pub async fn load_many(
        &self,
        files: Vec<(String, Vec<u8>)>,
    ) -> Result<Vec<Result<LoadReport, LoadError>>, sqlx::Error> {
        let mut answers = Vec::with_capacity(files.len());
        let mut parsed_files = Vec::new();
        for (file, bytes) in files {
            let sha256 = platform::crypto::sha256_hex(&bytes);
            let parsed = tokio::task::spawn_blocking(move || formats::parse(&bytes))
                .await
                .map_err(|err| FormatError(format!("reading stopped: {err}")))
                .and_then(|parsed| parsed);
            match parsed {
                Err(error) => answers.push(Err(LoadError::Format { file, error })),
                Ok(parsed) => {
                    let report = LoadReport {
                        file: file.clone(),
                        layout: parsed.layout.as_str(),
                        days: parsed.days(),
                        closes: parsed.closes.len(),
                        indices: parsed.indices.len(),
                        skipped: parsed.skipped,
                        already_loaded: store::has_load(&self.db, &sha256).await?,
                    };
                    if !report.already_loaded {
                        parsed_files.push((file, sha256, parsed, report.days.clone()));
                    }
                    answers.push(Ok(report));
                }
            }
        }
        if parsed_files.is_empty() {
            return Ok(answers);
        }
        // Only each security's newest close can move its latest one (and a
        // statement may not touch one row twice).
        let mut newest: HashMap<&str, &formats::Close> = HashMap::new();
        for close in parsed_files.iter().flat_map(|(_, _, p, _)| &p.closes) {
            let entry = newest.entry(close.isin.as_str()).or_insert(close);
            if close.day > entry.day || (close.day == entry.day && close.source < entry.source) {
                *entry = close;
            }
        }
        let newest: Vec<&formats::Close> = newest.into_values().collect();
        let at = self.clock.now().timestamp_millis();
        // In key order: a back-fill's rows then land beside each other in
        // the (isin, day) index instead of all over it.
        let mut closes: Vec<&formats::Close> = parsed_files
            .iter()
            .flat_map(|(_, _, p, _)| &p.closes)
            .collect();
        closes.sort_unstable_by(|a, b| (&a.isin, a.day, a.source).cmp(&(&b.isin, b.day, b.source)));
        // A day two files both hold (NSE's and BSE's) goes in once: the
        // better-ranked source, first in that order.
        closes.dedup_by(|later, first| later.isin == first.isin && later.day == first.day);
        // Grandfathering values the 31 January 2018 high of either exchange.
        // One row per ISIN: a statement may not touch one row twice.
        let mut highest: HashMap<&str, (i64, &str)> = HashMap::new();
        for c in parsed_files.iter().flat_map(|(_, _, p, _)| &p.closes) {
            if let (true, Some(high)) = (c.day == FMV_DAY, c.high) {
                let entry = highest
                    .entry(c.isin.as_str())
                    .or_insert((high, c.source.as_str()));
                if high > entry.0 {
                    *entry = (high, c.source.as_str());
                }
            }
        }
        let highs: Vec<(&str, i64, &str)> = highest
            .into_iter()
            .map(|(isin, (high, source))| (isin, high, source))
            .collect();
        let mut tx = self.db.begin().await?;
        store::put_closes(&mut tx, &closes).await?;
        store::put_fmv(&mut tx, &highs).await?;
        for (file, sha256, parsed, days) in &parsed_files {
            store::put_indices(&mut tx, &parsed.indices).await?;
            store::record_load(
                &mut tx,
                &store::NewLoad {
                    id: &uuid::Uuid::now_v7().to_string(),
                    layout: parsed.layout.as_str(),
                    file_name: file,
                    sha256,
                    days,
                    feed_days: &feed_days(parsed),
                    closes: parsed.closes.len() as i64,
                    indices: parsed.indices.len() as i64,
                    skipped: parsed.skipped as i64,
                    at,
                },
            )
            .await?;
        }
        store::put_latest(&mut tx, &newest).await?;
        tx.commit().await?;
        for (file, _, parsed, _) in &parsed_files {
            tracing::info!(
                file,
                layout = parsed.layout.as_str(),
                closes = parsed.closes.len(),
                indices = parsed.indices.len(),
                "market file loaded"
            );
        }
        Ok(answers)
    }

    /// Loads a corporate-actions file (NSE's export, a `Bc` file or the
    /// archive holding one) in one transaction, all of it or none.
    pub async fn load_actions(
        &self,
        file: &str,
        bytes: Vec<u8>,
    ) -> Result<ActionsReport, LoadError> {
        self.store_actions(file, bytes, None).await
    }

    /// Stores a corporate-actions file, counting `fetched` (a feed and
    /// day) as loaded in the same transaction.
    async fn store_actions(
        &self,
        file: &str,
        bytes: Vec<u8>,
        fetched: Option<(Feed, NaiveDate)>,
    ) -> Result<ActionsReport, LoadError> {
        let parsed = tokio::task::spawn_blocking(move || formats::parse_actions(&bytes))
            .await
            .map_err(|err| FormatError(format!("reading stopped: {err}")))
            .and_then(|parsed| parsed)
            .map_err(|error| LoadError::Format {
                file: file.to_string(),
                error,
            })?;
        // One row per security, kind and ex-date (the last wording wins):
        // a statement may not touch one row twice.
        let mut rows: Vec<store::ActionRow> = parsed.actions.iter().map(action_row).collect();
        rows.reverse();
        let mut seen = std::collections::HashSet::new();
        rows.retain(|r| seen.insert((r.key.clone(), r.kind.clone(), r.ex_date.clone())));
        rows.reverse();
        let mut tx = self.db.begin().await?;
        store::put_actions(&mut tx, &rows, self.clock.now().timestamp_millis()).await?;
        if let Some((feed, day)) = fetched {
            store::mark_loaded(&mut tx, feed.as_str(), day).await?;
        }
        tx.commit().await?;
        tracing::info!(file, actions = rows.len(), "corporate actions loaded");
        Ok(ActionsReport {
            file: file.to_string(),
            actions: rows.len(),
            need_terms: parsed.need_terms,
            skipped: parsed.skipped,
        })
    }

    /// The corporate actions of the securities `keys` names (ISINs, and
    /// `symbol:X` for those named by symbol in NSE's files), and of the
    /// securities those move shares into: curated ones first, then loaded.
    pub async fn corporate_actions(
        &self,
        keys: &[String],
    ) -> Result<Vec<CorporateAction>, ApiError> {
        let curated = super::curated::all();
        let mut wanted: std::collections::BTreeSet<String> = keys.iter().cloned().collect();
        let mut asked: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut out: Vec<CorporateAction> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        // A merger's new company may itself split later: follow a few links.
        for _ in 0..4 {
            let new: Vec<String> = wanted.difference(&asked).cloned().collect();
            if new.is_empty() {
                break;
            }
            asked.extend(new.iter().cloned());
            let refs: Vec<&str> = new.iter().map(String::as_str).collect();
            let mut found: Vec<CorporateAction> = curated
                .iter()
                .filter(|a| {
                    new.iter().any(|k| {
                        a.isin.as_deref() == Some(k.as_str())
                            || k.strip_prefix("symbol:") == Some(a.symbol.as_str())
                    })
                })
                .cloned()
                .collect();
            for row in store::actions_for(&self.db, &refs).await? {
                found.extend(stored_action(row));
            }
            for action in found {
                if !seen.insert(action.id.clone()) {
                    continue;
                }
                // The shares' new company, by ISIN and (NSE's files name
                // it so) by symbol.
                if let Some(into) = &action.into_isin {
                    wanted.insert(into.clone());
                }
                if let Some(symbol) = &action.into_symbol {
                    wanted.insert(format!("symbol:{symbol}"));
                }
                out.push(action);
            }
        }
        out.sort_by(|a, b| {
            (a.ex_date, a.source != "curated").cmp(&(b.ex_date, b.source != "curated"))
        });
        Ok(out)
    }

    /// The fair market value on 31 January 2018 of those of `isins` that have one.
    pub async fn fmv_2018(&self, isins: &[&str]) -> Result<HashMap<String, Decimal>, ApiError> {
        Ok(store::fmv(&self.db, isins)
            .await?
            .into_iter()
            .map(|(isin, e4)| (isin, rupees(e4)))
            .collect())
    }

    /// A counter every load moves: what was valued before it may value
    /// differently now.
    pub async fn generation(&self) -> Result<i64, ApiError> {
        Ok(store::generation(&self.db).await?)
    }

    /// The newest close of each of `isins` that has one, with the close
    /// before it (for the day's change).
    pub async fn latest_with_previous(
        &self,
        isins: &[&str],
    ) -> Result<HashMap<String, (Price, Option<Decimal>)>, ApiError> {
        let rows = store::latest(&self.db, isins).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let price = price(&row.day, row.close_e4, &row.source)?;
                Some((row.isin, (price, row.previous_e4.map(rupees))))
            })
            .collect())
    }

    /// Keeps prices read from Kite's quote API just now: (ISIN, price).
    pub async fn put_live(&self, prices: &[(String, Decimal)]) -> Result<usize, ApiError> {
        let scaled: Vec<(String, i64)> = prices
            .iter()
            .filter(|(_, p)| *p > Decimal::ZERO)
            .filter_map(|(isin, p)| Some((isin.clone(), formats::scaled(*p)?)))
            .collect();
        let mut tx = self.db.begin().await?;
        store::put_live(&mut tx, &scaled, self.clock.now().timestamp_millis()).await?;
        tx.commit().await?;
        Ok(scaled.len())
    }

    /// The live prices of `isins` read today (India time), with when.
    pub async fn live(
        &self,
        isins: &[&str],
    ) -> Result<HashMap<String, (Decimal, chrono::DateTime<chrono::Utc>)>, ApiError> {
        let midnight = self
            .clock
            .today_ist()
            .and_hms_opt(0, 0, 0)
            .and_then(|t| t.and_local_timezone(platform::clock::IST).earliest())
            .map_or(0, |t| t.timestamp_millis());
        Ok(store::live(&self.db, isins, midnight)
            .await?
            .into_iter()
            .filter_map(|(isin, e4, at)| {
                Some((
                    isin,
                    (rupees(e4), chrono::DateTime::from_timestamp_millis(at)?),
                ))
            })
            .collect())
    }

    /// Every close of `isins` from `from` to `to`, oldest first per ISIN.
    pub async fn closes(
        &self,
        isins: &[&str],
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<HashMap<String, Vec<(NaiveDate, Decimal)>>, ApiError> {
        let rows = store::closes_between(&self.db, isins, from, to).await?;
        let mut out: HashMap<String, Vec<(NaiveDate, Decimal)>> = HashMap::new();
        for row in rows {
            if let Some(day) = day_of(&row.day) {
                out.entry(row.isin)
                    .or_default()
                    .push((day, rupees(row.close_e4)));
            }
        }
        Ok(out)
    }

    /// Each of `isins`' last close on or before `day`.
    pub async fn closes_at(
        &self,
        isins: &[&str],
        day: NaiveDate,
    ) -> Result<HashMap<String, Price>, ApiError> {
        let rows = store::closes_on_or_before(&self.db, isins, day).await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let price = price(&row.day, row.close_e4, &row.source)?;
                Some((row.isin, price))
            })
            .collect())
    }

    /// An index's closing values from `from` to `to`, oldest first.
    pub async fn index(
        &self,
        name: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, Decimal)>, ApiError> {
        let rows = store::index_between(&self.db, name, from, to).await?;
        Ok(rows
            .into_iter()
            .filter_map(|(day, close)| Some((day_of(&day)?, rupees(close))))
            .collect())
    }

    /// The trading days from `from` to `to` whose NSE closes are loaded.
    pub async fn priced_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<NaiveDate>, ApiError> {
        let days = store::loaded_days(&self.db, Feed::NseEquity.as_str(), from, to).await?;
        Ok(days.iter().filter_map(|d| day_of(d)).collect())
    }

    /// Each feed's newest day, and the 20 files loaded last.
    pub async fn status(&self) -> Result<MarketStatus, ApiError> {
        let mut feeds = Vec::new();
        for feed in Feed::ALL {
            let last = store::last_loaded_day(&self.db, feed.as_str()).await?;
            feeds.push(FeedInfo {
                feed: feed.as_str(),
                last_day: last.as_deref().and_then(day_of),
            });
        }
        let loads = store::recent_loads(&self.db, 20)
            .await?
            .into_iter()
            .map(|row| LoadInfo {
                id: row.id,
                layout: row.layout,
                file_name: row.file_name,
                first_day: row.first_day.as_deref().and_then(day_of),
                last_day: row.last_day.as_deref().and_then(day_of),
                closes: row.closes,
                indices: row.indices,
                skipped: row.skipped,
                loaded_at: chrono::DateTime::from_timestamp_millis(row.loaded_at)
                    .unwrap_or_default(),
            })
            .collect();
        Ok(MarketStatus { feeds, loads })
    }

    /// Whether files are fetched from the sources (`market.fetch`).
    pub fn fetches(&self) -> bool {
        self.sources.is_some()
    }

    fn sources(&self) -> Result<&Sources, ApiError> {
        self.sources.as_ref().ok_or_else(|| {
            ApiError::failed_precondition(
                "fetching prices is off (market.fetch = false); load files with `kitemate prices load`",
            )
        })
    }

    /// Fetches and loads each feed's file of `day` not loaded yet. A feed
    /// that fails is reported in the answer, not an error: the others load.
    pub async fn fetch_day(&self, day: NaiveDate) -> Result<DayFetch, ApiError> {
        self.fetch_days(day, day, |_, _| {}).await
    }

    /// [`Self::fetch_day`] for every trading day from `from` to `to`,
    /// downloading a few files ahead while each loads; `progress` hears
    /// (files done, files in all).
    pub async fn fetch_days(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        progress: impl Fn(usize, usize),
    ) -> Result<DayFetch, ApiError> {
        use futures_util::StreamExt as _;
        let sources = self.sources()?;
        let today = self.clock.today_ist();
        let days = self.calendar.trading_days(from, to);
        let mut out = DayFetch::default();
        let mut wanted = Vec::new();
        for feed in Feed::ALL {
            let have: std::collections::HashSet<String> =
                store::loaded_days(&self.db, feed.as_str(), from, to)
                    .await?
                    .into_iter()
                    .collect();
            for day in &days {
                if have.contains(&day.to_string()) {
                    out.had += 1;
                } else {
                    wanted.push((*day, feed));
                }
            }
        }
        wanted.sort_unstable();
        let total = wanted.len();
        progress(0, total);
        // Downloads go on in their own task while batches are stored.
        let (tx, mut downloads) = tokio::sync::mpsc::channel(LOAD_BATCH * 2);
        let fetching = {
            let sources = sources.clone();
            tokio::spawn(async move {
                let mut fetched =
                    futures_util::stream::iter(wanted.into_iter().map(|(day, feed)| {
                        let sources = sources.clone();
                        async move { (day, feed, sources.fetch(feed, day, today).await) }
                    }))
                    .buffered(FETCH_AHEAD);
                while let Some(one) = fetched.next().await {
                    if tx.send(one).await.is_err() {
                        break;
                    }
                }
            })
        };
        let _stop = AbortOnDrop(fetching);
        let mut done = 0;
        // Downloaded files wait in a batch, stored together.
        let mut batch: Vec<(NaiveDate, Feed, String, Vec<u8>)> = Vec::new();
        while let Some((day, feed, fetched)) = downloads.recv().await {
            match fetched {
                Ok(None) => {}
                Ok(Some((name, bytes))) => batch.push((day, feed, name, bytes)),
                Err(err) => out.failed.push((feed, err.to_string())),
            }
            done += 1;
            if batch.len() >= LOAD_BATCH {
                self.store_batch(std::mem::take(&mut batch), &mut out)
                    .await?;
            }
            progress(done, total);
        }
        self.store_batch(batch, &mut out).await?;
        Ok(out)
    }
}

/// Downloads in flight while files load.
const FETCH_AHEAD: usize = 4;
/// Downloaded files stored in one transaction.
const LOAD_BATCH: usize = 32;

/// Stops the downloads when the fetch that started them ends early.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl MarketService {
    /// Stores downloaded files together, reporting each in `out`.
    async fn store_batch(
        &self,
        batch: Vec<(NaiveDate, Feed, String, Vec<u8>)>,
        out: &mut DayFetch,
    ) -> Result<(), ApiError> {
        // Corporate actions load on their own; the rest are prices.
        let (actions, batch): (Vec<_>, Vec<_>) = batch
            .into_iter()
            .partition(|(_, feed, _, _)| *feed == Feed::NseActions);
        for (day, feed, name, bytes) in actions {
            match self.store_actions(&name, bytes, Some((feed, day))).await {
                Ok(report) => out.actions.push(report),
                Err(LoadError::Format { file, error }) => {
                    tracing::error!(feed = feed.as_str(), %day, file, %error, "a corporate-actions file is malformed; nothing of it was loaded");
                    out.failed
                        .push((feed, format!("{file} is malformed: {error}")));
                }
                Err(LoadError::Store(err)) => return Err(ApiError::internal(err)),
            }
        }
        let wanted: Vec<(NaiveDate, Feed)> = batch.iter().map(|(d, f, _, _)| (*d, *f)).collect();
        let files = batch
            .into_iter()
            .map(|(_, _, name, bytes)| (name, bytes))
            .collect();
        let loaded = self.load_many(files).await?;
        for ((day, feed), result) in wanted.into_iter().zip(loaded) {
            match result {
                Ok(report) => {
                    if !report.days.contains(&day) && feed.required() {
                        out.failed
                            .push((feed, format!("{} holds no prices of {day}", report.file)));
                    }
                    out.loaded.push(report);
                }
                Err(LoadError::Format { file, error }) => {
                    tracing::error!(feed = feed.as_str(), %day, file, %error, "a market file is malformed; nothing of it was loaded");
                    out.failed
                        .push((feed, format!("{file} is malformed: {error}")));
                }
                Err(LoadError::Store(err)) => return Err(ApiError::internal(err)),
            }
        }
        Ok(())
    }
}

/// Which feed each of a file's days counts for. AMFI's file of the day
/// dates each scheme's last NAV, some days old: only days that a tenth of
/// its NAVs carry count as loaded.
fn feed_days(parsed: &Parsed) -> Vec<(&'static str, NaiveDate)> {
    let mut counts: HashMap<(&'static str, NaiveDate), usize> = HashMap::new();
    for close in &parsed.closes {
        let feed = match close.source {
            Source::Nse => Feed::NseEquity,
            Source::Bse => Feed::BseEquity,
            Source::Amfi => Feed::AmfiNav,
        };
        *counts.entry((feed.as_str(), close.day)).or_default() += 1;
    }
    for index in &parsed.indices {
        *counts
            .entry((Feed::NseIndices.as_str(), index.day))
            .or_default() += 1;
    }
    let enough = parsed.closes.len() / 10;
    let mut out: Vec<(&'static str, NaiveDate)> = counts
        .into_iter()
        .filter(|((feed, _), n)| *feed != Feed::AmfiNav.as_str() || *n >= enough.max(1))
        .map(|(key, _)| key)
        .collect();
    out.sort_unstable();
    out
}
