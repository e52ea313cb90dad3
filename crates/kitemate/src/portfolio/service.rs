//! The portfolio service: imports now; sync and calculations build on it.

use std::sync::Arc;

use bytes::Bytes;
use platform::ApiError;
use platform::clock::Clock;
use platform::db::Db;
use platform::objects::Bucket;

use platform::pubsub::{PubSub, Topic};

use super::calc::positions::{Security, at_close, securities};
use super::computed::{Computed, Kept, Securities};
use super::events::{PORTFOLIO_SYNCED, PortfolioSynced};
use super::import::{self, Skips, Table, Trade};
use super::model::{ImportReport, Kind, Paise, PriceSource, Quantity, Skipped};
use super::packed;
use super::store::{self, HoldingSnapshot, ImportRecord};
use crate::auth::AuthService;
use crate::market::{MarketService, Source};

#[derive(Debug, Clone)]
pub struct PortfolioService {
    pub(super) db: Db,
    pub(super) imports: Bucket,
    pub(super) clock: Clock,
    /// Kite, when "connect Zerodha" is configured.
    pub(super) kite: Option<kite::Kite>,
    /// Whose Kite tokens these are.
    pub(super) auth: AuthService,
    pub(super) synced: Topic<PortfolioSynced>,
    /// Closing prices, for holdings and history.
    pub(super) market: MarketService,
    computed: Kept,
}

/// The quantity in thousandths and the price in paise of a trade that can
/// be stored (equity, exact to those units), or why it cannot.
fn storable(trade: &Trade, today: chrono::NaiveDate) -> Result<(i64, i64), String> {
    if trade.trade_date > today {
        return Err(format!(
            "trade_date: {} is after today ({today}, IST)",
            trade.trade_date
        ));
    }
    if !matches!(trade.segment.as_str(), "EQ" | "BE" | "") {
        return Err(format!(
            "segment {}: only equity trades are imported",
            trade.segment
        ));
    }
    let quantity = Quantity::exact(trade.quantity)
        .and_then(Quantity::milli)
        .ok_or("quantity has more than three decimals")?;
    let price = Paise::exact(trade.price).ok_or("price has more than two decimals")?;
    Ok((quantity, price.get()))
}

/// Encodes storable trades into a batch as they are read.
struct Encoder {
    batch: packed::Batch,
    today: chrono::NaiveDate,
    /// Reused for every trade's date and time.
    date: String,
    time: String,
}

impl Encoder {
    /// Encodes `trade`, or says why it cannot be stored.
    fn push(&mut self, trade: &Trade) -> Result<(), String> {
        use std::fmt::Write as _;
        let (quantity_milli, price_paise) = storable(trade, self.today)?;
        self.date.clear();
        let _ = write!(self.date, "{}", trade.trade_date);
        self.time.clear();
        if let Some(at) = trade.executed_at {
            let _ = write!(self.time, "{}T{}", at.date(), at.time());
        }
        let line = packed::Line {
            trade_id: &trade.trade_id,
            exchange: &trade.exchange,
            segment: &trade.segment,
            symbol: &trade.symbol,
            trade_date: &self.date,
            executed_at: &self.time,
            side: trade.side.as_str(),
            quantity_milli,
            price_paise,
            order_id: &trade.order_id,
        };
        self.batch.push(&line, &trade.isin);
        Ok(())
    }
}

impl PortfolioService {
    /// Every security the user traded or holds, with its FIFO book.
    pub async fn securities(&self, user_id: &str) -> Result<Securities, ApiError> {
        // A kept portfolio holds while neither the user's data nor the
        // closing prices changed.
        let (version, prices) = tokio::try_join!(
            async { Ok(store::version(&self.db, user_id).await?) },
            self.market.generation()
        )?;
        let version = (version, prices, self.clock.today_ist());
        if let Some(kept) = self.computed.get(user_id, version) {
            return Ok(kept);
        }
        let (blocks, imported, synced, funds, synced_at, imported_at) = tokio::try_join!(
            store::blocks(&self.db, user_id),
            store::holdings_snapshot(&self.db, user_id),
            store::synced_holdings(&self.db, user_id),
            store::synced_funds(&self.db, user_id),
            store::synced_at(&self.db, user_id),
            store::holdings_imported_at(&self.db, user_id),
        )?;
        let at = |ms: Option<i64>| ms.and_then(chrono::DateTime::from_timestamp_millis);
        let synced_at = at(synced_at);
        // What Kite says now wins over an exported file, which wins over
        // working it out from trades.
        let (stated, priced) = if synced.is_empty() {
            (imported, (PriceSource::HoldingsFile, at(imported_at)))
        } else {
            let stated = synced
                .into_iter()
                .map(|h| HoldingSnapshot {
                    symbol: h.symbol,
                    isin: h.isin,
                    quantity_milli: h.quantity_milli,
                    average_price: h.average_price,
                    last_price: Some(h.last_price),
                    close_price: Some(h.close_price),
                })
                .collect();
            (stated, (PriceSource::Kite, synced_at))
        };
        let known = self
            .known(
                user_id,
                super::calc::positions::action_keys(&blocks, &stated),
            )
            .await?;
        let mut all = securities(&blocks, &stated, priced, &known).map_err(ApiError::internal)?;
        super::calc::positions::add_funds(&mut all, &funds, synced_at);
        self.price_at_close(&mut all).await?;
        let all = Arc::new(Computed::new(all));
        self.computed.put(user_id, version, Arc::clone(&all));
        Ok(all)
    }

    /// Prices each held security at its newest close where that is newer
    /// than the price it has (a sync's, a file's, a trade's).
    async fn price_at_close(&self, all: &mut [Security]) -> Result<(), ApiError> {
        let owned: Vec<String> = all
            .iter()
            .filter(|s| s.is_held() && !s.isin.is_empty())
            .map(|s| s.isin.clone())
            .collect();
        if owned.is_empty() {
            return Ok(());
        }
        let isins: Vec<&str> = owned.iter().map(String::as_str).collect();
        let closes = self.market.latest_with_previous(&isins).await?;
        for security in all.iter_mut() {
            let Some((price, previous)) = closes.get(&security.isin) else {
                continue;
            };
            // A trade's price counts at that day's close too: the close,
            // the day's last word, wins the tie.
            let as_of = at_close(price.day);
            if security.price_as_of.is_some_and(|had| had > as_of) {
                continue;
            }
            security.last_price = Some(security.on_todays_shares(price.close, price.day));
            security.price_as_of = Some(as_of);
            security.price_source = Some(match price.source {
                Source::Nse => PriceSource::NseClose,
                Source::Bse => PriceSource::BseClose,
                Source::Amfi => PriceSource::AmfiNav,
            });
            // The close before is of a day before `price.day`: a split on
            // the newest close's day is after it.
            let before = price.day.pred_opt().unwrap_or(price.day);
            security.close_price = previous.map(|p| security.on_todays_shares(p, before));
        }
        // During market hours a live price from Kite is newer still; the
        // last close is then the one before it.
        for (isin, (price, at)) in self.market.live(&isins).await? {
            let Some(security) = all.iter_mut().find(|s| s.isin == isin) else {
                continue;
            };
            if security.price_as_of.is_some_and(|had| had >= at) {
                continue;
            }
            if let Some((close, _)) = closes.get(&isin).filter(|(c, _)| at_close(c.day) < at) {
                security.close_price = Some(close.close);
            }
            security.last_price = Some(price);
            security.price_as_of = Some(at);
            security.price_source = Some(PriceSource::Kite);
        }
        Ok(())
    }

    pub fn new(
        db: Db,
        imports: Bucket,
        clock: Clock,
        kite: Option<kite::Kite>,
        auth: AuthService,
        market: MarketService,
        pubsub: &PubSub,
    ) -> anyhow::Result<Self> {
        let synced = pubsub.topic(&PORTFOLIO_SYNCED, &db)?;
        Ok(Self {
            db,
            imports,
            clock,
            kite,
            auth,
            market,
            synced,
            computed: Kept::default(),
        })
    }

    pub fn db(&self) -> &Db {
        &self.db
    }

    /// Brings data stored by earlier versions to the current layout (trades
    /// packed by month); a no-op once done. Run after migrations.
    pub async fn upgrade_storage(&self) -> Result<(), ApiError> {
        let moved = store::split_unmonthed_blocks(&self.db).await?;
        if moved > 0 {
            tracing::info!(users = moved, "trades repacked by month");
        }
        Ok(())
    }

    /// Imports a Console or Kite export for `user_id`. The file lands whole
    /// or not at all; its bytes are kept in the imports bucket.
    pub async fn import(
        &self,
        user_id: &str,
        kind: Option<Kind>,
        file_name: Option<String>,
        bytes: Bytes,
    ) -> Result<ImportReport, ApiError> {
        self.ingest(user_id, kind, file_name, Input::Bytes(bytes))
            .await
    }

    /// [`PortfolioService::import`] of a file on disk (`kitemate import`):
    /// it is read as it is parsed and kept, never held whole in memory.
    pub async fn import_file(
        &self,
        user_id: &str,
        kind: Option<Kind>,
        file_name: Option<String>,
        file: &std::path::Path,
    ) -> Result<ImportReport, ApiError> {
        self.ingest(user_id, kind, file_name, Input::File(file.to_path_buf()))
            .await
    }

    async fn ingest(
        &self,
        user_id: &str,
        kind: Option<Kind>,
        file_name: Option<String>,
        input: Input,
    ) -> Result<ImportReport, ApiError> {
        let import_id = uuid::Uuid::now_v7().to_string();
        let object_key = format!("{user_id}/{import_id}.csv");
        // The file is kept while it is parsed (seconds of CPU for a large
        // one, so off the async workers). It is kept before anything is
        // recorded, so a failure leaves no half-recorded import.
        let today = self.clock.today_ist();
        let parsing = input.clone();
        let parse = tokio::task::spawn_blocking(move || parsing.parse(kind, today));
        let keep = async {
            match &input {
                Input::Bytes(bytes) => {
                    self.imports
                        .upload(&object_key, bytes.clone(), Some("text/csv"))
                        .await
                }
                Input::File(file) => {
                    self.imports
                        .upload_file(&object_key, file, Some("text/csv"))
                        .await
                }
            }
        };
        let (parsed, kept) = tokio::join!(parse, keep);
        drop(input);
        let parsed = parsed
            .map_err(|err| ApiError::internal(anyhow::anyhow!("parsing stopped: {err}")))
            .and_then(|parsed| parsed);
        let (kind, parsed) = match (parsed, kept) {
            (Ok(parsed), Ok(_)) => parsed,
            (Err(err), kept) => {
                if kept.is_ok()
                    && let Err(cleanup) = self.imports.delete(&object_key).await
                {
                    tracing::warn!(error = %cleanup, key = %object_key, "cannot delete a refused import");
                }
                return Err(err);
            }
            (Ok(_), Err(err)) => return Err(err.into()),
        };
        let ParsedFile {
            rows,
            skipped,
            trades,
            holdings,
        } = parsed;
        let skipped_count = skipped.total() as u64;
        let skipped = skipped.into_first();
        // A snapshot is encoded and compared with the one stored before the
        // write transaction opens, by hash: the writer is held only to store it.
        let (holdings_lines, unchanged) = if kind == Kind::Holdings {
            let before = store::holdings_snapshot(&self.db, user_id).await?;
            let before: std::collections::HashSet<(&str, i64, &str)> = before
                .iter()
                .map(|b| {
                    (
                        b.symbol.as_str(),
                        b.quantity_milli,
                        b.average_price.as_str(),
                    )
                })
                .collect();
            let unchanged = holdings
                .iter()
                .filter(|r| {
                    before.contains(&(
                        r.symbol.as_str(),
                        r.quantity_milli,
                        r.average_price.as_str(),
                    ))
                })
                .count() as u64;
            (store::encode_holdings(&holdings), unchanged)
        } else {
            (String::new(), 0)
        };
        let mut tx = self.db.begin().await?;
        store::bump_version(&mut tx, user_id).await?;
        let (imported, duplicates) = match kind {
            Kind::Tradebook => {
                let total = trades.len() as u64;
                let stored = store::blocks_in(&mut tx, user_id).await?;
                let mut fresh = trades.dedupe(&stored);
                drop(stored);
                // A few securities at a time, so their blocks are made, stored
                // and dropped before the next are made.
                let mut months = std::collections::BTreeMap::new();
                loop {
                    let blocks = fresh.next_blocks(500);
                    if blocks.is_empty() {
                        break;
                    }
                    store::tally_months(&blocks, &mut months);
                    store::insert_blocks(&mut tx, user_id, &import_id, &blocks).await?;
                }
                store::count_months(&mut tx, user_id, &months).await?;
                (total - fresh.duplicates, fresh.duplicates)
            }
            Kind::Holdings => {
                store::replace_holdings(&mut tx, user_id, &import_id, &holdings_lines).await?;
                (holdings.len() as u64 - unchanged, unchanged)
            }
        };
        let record = ImportRecord {
            id: import_id.clone(),
            kind: kind.as_str().into(),
            file_name,
            object_key,
            rows_read: rows as i64,
            imported: imported as i64,
            duplicates: duplicates as i64,
            skipped: serde_json::to_string(&skipped).unwrap_or_else(|_| "[]".into()),
            skipped_count: skipped_count as i64,
            created_at: self.clock.now().timestamp_millis(),
        };
        store::insert_import(&mut tx, user_id, &record).await?;
        tx.commit().await?;
        let suggested_actions = self.suggested_actions(user_id).await?;
        Ok(ImportReport {
            import_id,
            kind,
            rows,
            imported,
            duplicates,
            skipped,
            skipped_count,
            suggested_actions,
        })
    }
}

/// A file read into what can be stored.
struct ParsedFile {
    rows: usize,
    skipped: Skips,
    trades: packed::Batch,
    holdings: Vec<HoldingSnapshot>,
}

/// A file to import: uploaded bytes, or a path on this machine.
#[derive(Debug, Clone)]
enum Input {
    Bytes(Bytes),
    File(std::path::PathBuf),
}

impl Input {
    /// Reads the file as `kind`, or as the kind its header says.
    fn parse(
        &self,
        kind: Option<Kind>,
        today: chrono::NaiveDate,
    ) -> Result<(Kind, ParsedFile), ApiError> {
        let refused = |reason| ApiError::invalid_field("file", reason);
        match self {
            Self::Bytes(bytes) => parse(
                Table::read(bytes).map_err(refused)?,
                bytes.len(),
                kind,
                today,
            ),
            Self::File(file) => {
                let size = std::fs::metadata(file)
                    .map_err(|err| refused(format!("cannot read the file: {err}")))?
                    .len();
                let table = Table::open(file).map_err(refused)?;
                parse(table, usize::try_from(size).unwrap_or(0), kind, today)
            }
        }
    }
}

/// Reads `table` (a file of about `size` bytes) as `kind`, or as the kind
/// its header says.
fn parse(
    table: Table<'_>,
    size: usize,
    kind: Option<Kind>,
    today: chrono::NaiveDate,
) -> Result<(Kind, ParsedFile), ApiError> {
    let kind = kind.or_else(|| import::detect(&table)).ok_or_else(|| {
        ApiError::invalid_field(
            "file",
            "neither a tradebook (trade_date, trade_type, quantity, price) nor a holdings \
             export (Instrument, Qty., Avg. cost); say which with kind=",
        )
    })?;
    let file = match kind {
        Kind::Tradebook => {
            let mut encoder = Encoder {
                batch: packed::Batch::with_capacity(size),
                today,
                date: String::new(),
                time: String::new(),
            };
            let parsed = import::tradebook::parse_each(&table, |trade| encoder.push(&trade))
                .map_err(|reason| ApiError::invalid_field("file", reason))?;
            ParsedFile {
                rows: parsed.rows_read,
                skipped: parsed.skipped,
                trades: encoder.batch,
                holdings: Vec::new(),
            }
        }
        Kind::Holdings => {
            let parsed = import::holdings::parse(&table)
                .map_err(|reason| ApiError::invalid_field("file", reason))?;
            // By symbol; a symbol listed twice (two demat accounts) holds both.
            let mut by_symbol = std::collections::BTreeMap::<String, HoldingSnapshot>::new();
            let mut skipped = parsed.skipped;
            for row in &parsed.rows {
                match Quantity::exact(row.quantity).and_then(Quantity::milli) {
                    Some(quantity_milli) => {
                        by_symbol
                            .entry(row.symbol.clone())
                            .and_modify(|h| h.quantity_milli += quantity_milli)
                            .or_insert_with(|| HoldingSnapshot {
                                symbol: row.symbol.clone(),
                                isin: row.isin.clone(),
                                quantity_milli,
                                average_price: row.average_price.to_string(),
                                last_price: row.last_price.map(|p| p.to_string()),
                                close_price: None,
                            });
                    }
                    None => skipped.push(Skipped {
                        line: row.line,
                        reason: "quantity has more than three decimals".into(),
                    }),
                }
            }
            let holdings: Vec<HoldingSnapshot> = by_symbol.into_values().collect();
            ParsedFile {
                rows: parsed.rows_read,
                skipped,
                trades: packed::Batch::default(),
                holdings,
            }
        }
    };
    Ok((kind, file))
}
