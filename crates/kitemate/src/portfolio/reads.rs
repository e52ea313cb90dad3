//! What the portfolio service answers: the figures of a user's portfolio,
//! imports, trades, positions and history, as the model states them. The
//! handlers and other services (chat, widgets) read through these alone.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate};
use platform::ApiError;

use super::figures::{self, RealizedFilter};
use super::model::{
    Allocation, AllocationBy, HoldingPage, HoldingSort, ImportDetail, ImportInfo, ImportList, Kind,
    Order, Paise, Portfolio, PositionInfo, Quantity, RealizedPnl, Report, Side, Skipped, Summary,
    TradeFilter, TradeInfo, TradePage, TradeTally,
};
use super::query::{Data, MAX_ROWS, Source};
use super::service::PortfolioService;
use super::store::{self, ImportRecord, StoredTrade};
use super::tables::{self, Rows};

/// Stored data this version cannot read: a loud failure, never a made-up ₹0.
fn corrupt(what: &str, value: &str) -> ApiError {
    ApiError::internal(anyhow::anyhow!("stored {what} {value:?} cannot be read"))
}

fn date(value: &str) -> Result<NaiveDate, ApiError> {
    value.parse().map_err(|_| corrupt("date", value))
}

fn decimal(what: &str, value: &str) -> Result<rust_decimal::Decimal, ApiError> {
    value.parse().map_err(|_| corrupt(what, value))
}

fn trade_info(t: StoredTrade) -> Result<TradeInfo, ApiError> {
    let quantity = Quantity::from_milli(t.quantity_milli);
    let price = Paise::new(t.price_paise);
    Ok(TradeInfo {
        trade_date: date(&t.trade_date)?,
        side: Side::parse(&t.side).ok_or_else(|| corrupt("side", &t.side))?,
        value_paise: Paise::from_rupees(quantity.decimal() * price.rupees()),
        quantity,
        price_paise: price,
        trade_id: t.trade_id,
        order_id: t.order_id,
        symbol: t.symbol,
        isin: t.isin,
        exchange: t.exchange,
        segment: t.segment,
        executed_at: t.executed_at,
    })
}

fn import_info(r: &ImportRecord) -> Result<ImportInfo, ApiError> {
    let count = |n: i64| u64::try_from(n).map_err(|_| corrupt("count", &n.to_string()));
    Ok(ImportInfo {
        id: r.id.clone(),
        kind: Kind::parse(&r.kind).ok_or_else(|| corrupt("import kind", &r.kind))?,
        file_name: r.file_name.clone(),
        rows: count(r.rows_read)?,
        imported: count(r.imported)?,
        duplicates: count(r.duplicates)?,
        skipped_count: count(r.skipped_count)?,
        created_at: DateTime::from_timestamp_millis(r.created_at)
            .ok_or_else(|| corrupt("import time", &r.created_at.to_string()))?,
    })
}

impl PortfolioService {
    /// A page of the user's holdings, sorted.
    pub async fn holdings(
        &self,
        user_id: &str,
        sort: HoldingSort,
        order: Option<Order>,
        offset: usize,
        limit: usize,
    ) -> Result<HoldingPage, ApiError> {
        let securities = self.securities(user_id).await?;
        let today = self.clock.today_ist();
        Ok(figures::holdings_page(
            &securities,
            sort,
            order,
            offset,
            limit,
            today,
        ))
    }

    pub async fn summary(&self, user_id: &str) -> Result<Summary, ApiError> {
        let securities = self.securities(user_id).await?;
        Ok(figures::summarize(&securities, self.clock.today_ist()))
    }

    pub async fn allocation(
        &self,
        user_id: &str,
        by: AllocationBy,
    ) -> Result<Allocation, ApiError> {
        let securities = self.securities(user_id).await?;
        Ok(figures::allocation(&securities, by))
    }

    pub async fn realized(
        &self,
        user_id: &str,
        filter: RealizedFilter,
    ) -> Result<RealizedPnl, ApiError> {
        let securities = self.securities(user_id).await?;
        Ok(figures::realized(&securities, filter))
    }

    /// The summary and every holding (not the sales a report lists too).
    pub async fn portfolio(&self, user_id: &str) -> Result<Portfolio, ApiError> {
        let securities = self.securities(user_id).await?;
        let today = self.clock.today_ist();
        Ok(Portfolio {
            user_id: user_id.to_string(),
            summary: figures::summarize(&securities, today),
            holdings: figures::holding_infos(&securities, today),
        })
    }

    /// The user's report today; worked out once per day and version.
    pub async fn report(&self, user_id: &str) -> Result<Arc<Report>, ApiError> {
        let today = self.clock.today_ist();
        let securities = self.securities(user_id).await?;
        Ok(securities.report(today, |securities| figures::report(securities, today)))
    }

    /// A page of the user's imports, newest first.
    pub async fn imports(
        &self,
        user_id: &str,
        offset: i64,
        limit: i64,
    ) -> Result<ImportList, ApiError> {
        let (rows, total) = store::list_imports(&self.db, user_id, offset, limit).await?;
        Ok(ImportList {
            imports: rows.iter().map(import_info).collect::<Result<_, _>>()?,
            total,
            offset,
            limit,
        })
    }

    /// One of the user's imports with the lines it skipped.
    pub async fn import_detail(&self, user_id: &str, id: &str) -> Result<ImportDetail, ApiError> {
        let record = store::import_of(&self.db, user_id, id)
            .await?
            .ok_or_else(|| ApiError::not_found("no such import"))?;
        let skipped: Vec<Skipped> = serde_json::from_str(&record.skipped)
            .map_err(|_| corrupt("skipped lines of import", &record.id))?;
        Ok(ImportDetail {
            import: import_info(&record)?,
            skipped,
        })
    }

    /// A page of the user's trades, newest first.
    pub async fn trades(
        &self,
        user_id: &str,
        filter: &TradeFilter,
        offset: usize,
        limit: usize,
    ) -> Result<TradePage, ApiError> {
        let (rows, total) = store::list_trades(&self.db, user_id, filter, offset, limit).await?;
        let as_i64 = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        Ok(TradePage {
            trades: rows.into_iter().map(trade_info).collect::<Result<_, _>>()?,
            total: as_i64(total),
            offset: as_i64(offset),
            limit: as_i64(limit),
        })
    }

    /// What the user's trades matching `filter` (and `side`, when given)
    /// add up to: it reads the months the filter spans, a year at a time.
    pub async fn trade_tally(
        &self,
        user_id: &str,
        filter: &TradeFilter,
        side: Option<Side>,
    ) -> Result<TradeTally, ApiError> {
        let t = store::tally_trades(&self.db, user_id, filter, side.map(Side::as_str)).await?;
        Ok(TradeTally {
            count: t.count,
            quantity: Quantity::from_milli(t.quantity_milli),
            value_paise: Paise::new(i64::try_from(t.value_paise).unwrap_or(i64::MAX)),
            first: t.first.map(trade_info).transpose()?,
            last: t.last.map(trade_info).transpose()?,
        })
    }

    /// Today's positions at the last sync.
    pub async fn positions(&self, user_id: &str) -> Result<Vec<PositionInfo>, ApiError> {
        store::synced_positions(&self.db, user_id)
            .await?
            .into_iter()
            .map(|p| {
                Ok(PositionInfo {
                    last_price_paise: Paise::from_rupees(decimal("price", &p.last_price)?),
                    pnl_paise: Paise::from_rupees(decimal("P&L", &p.pnl)?),
                    average_price: decimal("price", &p.average_price)?,
                    symbol: p.symbol,
                    exchange: p.exchange,
                    product: p.product,
                    quantity: p.quantity,
                })
            })
            .collect()
    }

    /// The data `source` answers with, from the same figures as every other
    /// read; trades and history are read for it, bounded by the source.
    pub async fn data(&self, user_id: &str, source: &Source) -> Result<Data, ApiError> {
        let report = self.report(user_id).await?;
        let mut rows = Rows::default();
        match source {
            Source::Trades(t) => {
                let filter = TradeFilter {
                    symbol: t.symbol.clone(),
                    from: t.from,
                    to: t.to,
                };
                let limit = t.limit.map_or(MAX_ROWS, usize::from);
                let (page, _) = store::list_trades(&self.db, user_id, &filter, 0, limit).await?;
                rows.trades = page
                    .into_iter()
                    .rev()
                    .map(trade_info)
                    .collect::<Result<_, _>>()?;
            }
            Source::History(h) => {
                let today = self.clock.today_ist();
                rows.history = self.history(user_id, h.range.start(today), today).await?;
            }
            _ => {}
        }
        Ok(tables::data(&report, &rows, source))
    }

    /// Today in India, on the service's clock.
    pub fn today(&self) -> NaiveDate {
        self.clock.today_ist()
    }
}
