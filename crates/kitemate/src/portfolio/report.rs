//! The portfolio as other services read it (chat first): the same figures
//! the portfolio endpoints give, worked out once per question.

use std::sync::Arc;

use chrono::NaiveDate;
use kite::money::paise;
use platform::ApiError;

use super::service::PortfolioService;
use super::store::{self, TradeFilter};
use super::sync_api::PositionInfo;
use super::views::{self, AllocationBy, HoldingInfo, Sale, Slice, Summary};

/// One user's portfolio today.
#[derive(Debug)]
pub struct Report {
    pub today: NaiveDate,
    pub summary: Summary,
    /// Largest value first.
    pub holdings: Vec<HoldingInfo>,
    /// Every sale, oldest first.
    pub sales: Vec<Sale>,
    pub by_stock: Vec<Slice>,
    pub by_sector: Vec<Slice>,
    pub by_asset_class: Vec<Slice>,
}

/// A stored trade, as a question about trades lists it.
#[derive(Debug, Clone)]
pub struct TradeLine {
    pub date: String,
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    pub quantity: String,
    pub price_paise: i64,
    pub value_paise: i64,
}

impl PortfolioService {
    /// The user's report today; worked out once per day and version.
    pub async fn report(&self, user_id: &str) -> Result<Arc<Report>, ApiError> {
        let today = self
            .clock
            .now()
            .with_timezone(&chrono_tz::Asia::Kolkata)
            .date_naive();
        let securities = self.securities(user_id).await?;
        Ok(securities.report(today, |securities| {
            let summary = views::summarize(securities, today);
            let slices = |by| views::allocation_of(securities, by).0;
            Report {
                today,
                summary,
                holdings: views::holding_infos(securities, today),
                sales: views::all_sales(securities),
                by_stock: slices(AllocationBy::Stock),
                by_sector: slices(AllocationBy::Sector),
                by_asset_class: slices(AllocationBy::AssetClass),
            }
        }))
    }

    /// The user's trades from `from` to `to` (either open), of `symbol`
    /// (a symbol or an ISIN) if given, oldest first.
    pub async fn trades_between(
        &self,
        user_id: &str,
        symbol: Option<&str>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Vec<TradeLine>, ApiError> {
        let filter = TradeFilter {
            symbol: symbol.map(str::to_string),
            from: from.map(|d| d.to_string()),
            to: to.map(|d| d.to_string()),
        };
        let (mut trades, _) = store::list_trades(&self.db, user_id, &filter, 0, usize::MAX).await?;
        trades.reverse();
        Ok(trades
            .into_iter()
            .map(|t| TradeLine {
                value_paise: t.value_paise(),
                quantity: t.quantity().to_string(),
                date: t.trade_date,
                symbol: t.symbol,
                side: t.side,
                price_paise: t.price_paise,
            })
            .collect())
    }

    /// Today's positions at the last sync.
    pub async fn positions(&self, user_id: &str) -> Result<Vec<PositionInfo>, ApiError> {
        let decimal = |text: &str| text.parse().unwrap_or_default();
        Ok(super::sync::synced_positions(&self.db, user_id)
            .await?
            .into_iter()
            .map(|p| PositionInfo {
                last_price_paise: paise(decimal(&p.last_price)),
                pnl_paise: paise(decimal(&p.pnl)),
                symbol: p.symbol,
                exchange: p.exchange,
                product: p.product,
                quantity: p.quantity,
                average_price: p.average_price,
            })
            .collect())
    }
}
