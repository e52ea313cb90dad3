//! What the tools return beyond the API's own models: holdings with their
//! holding periods, and what the data does not know.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::portfolio::model::{HoldingPage, ImportInfo};
use crate::portfolio::tax::model::OpenLot;
use crate::portfolio::{Paise, Quantity, Summary};

/// The portfolio's figures and how fresh they are.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SummaryOut {
    pub summary: Summary,
    /// When the newest file was imported (absent: nothing imported).
    pub last_import_at: Option<DateTime<Utc>>,
    /// Today in India, the day the figures are of.
    #[schema(value_type = String, format = Date)]
    pub today: NaiveDate,
}

/// A holding's quantity split by holding period (FIFO lots).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldingTerm {
    pub symbol: String,
    pub quantity: Quantity,
    /// The oldest open lot's purchase date.
    #[schema(value_type = Option<String>, format = Date)]
    pub first_bought_on: Option<NaiveDate>,
    /// Days the oldest open lot has been held.
    pub held_days: Option<i64>,
    pub long_term_quantity: Quantity,
    pub short_term_quantity: Quantity,
    /// When the next short-term lot turns long-term; none when no lot will
    /// (a debt fund bought since April 2023 stays short-term, s.50AA).
    #[schema(value_type = Option<String>, format = Date)]
    pub next_long_term_on: Option<NaiveDate>,
    /// Unrealized gain of the long-term lots (over their cost basis).
    pub long_term_unrealized_paise: Option<Paise>,
    pub short_term_unrealized_paise: Option<Paise>,
}

/// A page of holdings with their holding periods.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldingsOut {
    pub page: HoldingPage,
    /// One per holding of the page, same order.
    pub terms: Vec<HoldingTerm>,
}

/// One holding's open lots, oldest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LotsOut {
    pub symbol: String,
    pub term: Option<HoldingTerm>,
    pub lots: Vec<OpenLot>,
    /// Lots of the holding, when more than shown.
    pub total: usize,
}

/// A holding whose price is old or missing.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct StalePrice {
    pub symbol: String,
    pub price_as_of: Option<DateTime<Utc>>,
}

/// What the data does not know: so an answer can say so.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DataStatus {
    /// The newest imports, newest first (at most 5).
    pub imports: Vec<ImportInfo>,
    pub imports_total: i64,
    pub holdings: usize,
    /// Holdings without any price (left out of the value).
    pub unpriced: usize,
    /// Holdings whose price is more than 5 days old or missing (at most 50).
    pub stale_prices: Vec<StalePrice>,
    /// Sales of all years without a matching purchase in the data: the
    /// tradebook likely starts after the shares were bought.
    pub sales_without_purchases: usize,
    /// Symbols with such sales (at most 50).
    pub symbols_missing_purchases: Vec<String>,
    pub today: String,
}

/// A page of trades, filtered.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradesOut {
    pub trades: Vec<crate::portfolio::TradeInfo>,
    /// Trades matching symbol and dates, on every page (before `side`).
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Works out holding periods from open lots (of one or more symbols).
pub fn terms(symbol: &str, quantity: Quantity, lots: &[&OpenLot], today: NaiveDate) -> HoldingTerm {
    let mut long = rust_decimal::Decimal::ZERO;
    let mut short = rust_decimal::Decimal::ZERO;
    let (mut long_gain, mut short_gain) = (Some(0i64), Some(0i64));
    let mut next: Option<NaiveDate> = None;
    for lot in lots {
        let q = lot.quantity.decimal();
        let gain = lot.unrealized_paise.map(Paise::get);
        if lot.long_term {
            long += q;
            long_gain = long_gain.zip(gain).map(|(a, b)| a + b);
        } else {
            short += q;
            short_gain = short_gain.zip(gain).map(|(a, b)| a + b);
            // A lot past its date and still short-term never turns (a debt
            // fund bought since April 2023 is short-term however long held).
            if lot.long_term_from > today {
                next = Some(next.map_or(lot.long_term_from, |n| n.min(lot.long_term_from)));
            }
        }
    }
    let first = lots.iter().map(|l| l.acquired_on).min();
    HoldingTerm {
        symbol: symbol.to_string(),
        quantity,
        first_bought_on: first,
        held_days: first.map(|f| (today - f).num_days()),
        long_term_quantity: Quantity::rounded(long).unwrap_or_default(),
        short_term_quantity: Quantity::rounded(short).unwrap_or_default(),
        next_long_term_on: next,
        long_term_unrealized_paise: long_gain.map(Paise::new),
        short_term_unrealized_paise: short_gain.map(Paise::new),
    }
}
