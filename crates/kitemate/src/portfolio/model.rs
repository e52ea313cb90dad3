//! The portfolio as the rest of the app sees it: plain types built from
//! money ([`Paise`]), quantities ([`Quantity`]) and percentages
//! ([`Percent`]), serialised as the API sends them. Nothing here reads a
//! database or works anything out; everything else in the service builds on it.

use chrono::{DateTime, NaiveDate, Utc};
pub use kite::money::{Paise, Quantity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A percentage rounded to two places; sent as a decimal string like `"12.5"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Percent(Decimal);

impl Percent {
    pub const ZERO: Self = Self(Decimal::ZERO);

    /// `part` as a percentage of `whole`; `None` when `whole` is zero.
    pub fn of(part: Decimal, whole: Decimal) -> Option<Self> {
        if whole.is_zero() {
            return None;
        }
        part.checked_mul(Decimal::ONE_HUNDRED)
            .and_then(|p| p.checked_div(whole))
            .map(Self::rounded)
    }

    /// A rate such as 0.1234 (from XIRR) as 12.34 %; `None` when not finite.
    pub fn from_rate(rate: f64) -> Option<Self> {
        Decimal::from_f64_retain(rate * 100.0).map(Self::rounded)
    }

    /// A percentage stated as one (a tax rate such as 12.5).
    pub fn exact(value: Decimal) -> Self {
        Self::rounded(value)
    }

    fn rounded(value: Decimal) -> Self {
        Self(value.round_dp(2).normalize())
    }

    pub fn get(self) -> Decimal {
        self.0
    }
}

impl std::fmt::Display for Percent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl utoipa::PartialSchema for Percent {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("A percentage, rounded to two decimals"))
            .examples([serde_json::json!("12.34")])
            .into()
    }
}

impl ToSchema for Percent {}

/// What kind of thing a holding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssetClass {
    Equity,
    /// Exchange-traded funds (ISINs starting `INF` bought on an exchange).
    Etf,
    /// Mutual funds held through Coin.
    MutualFund,
}

impl AssetClass {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Equity => "equity",
            Self::Etf => "etf",
            Self::MutualFund => "mutual_fund",
        }
    }
}

/// How long a sold lot was held, for tax.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Term {
    /// Held twelve months or less.
    ShortTerm,
    /// Held more than twelve months.
    LongTerm,
}

/// One holding, valued.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HoldingInfo {
    pub symbol: String,
    pub isin: String,
    pub quantity: Quantity,
    /// In rupees, to four places (averages carry more places than paise).
    #[schema(value_type = Option<String>)]
    pub average_price: Option<Decimal>,
    pub invested_paise: Paise,
    pub last_price_paise: Option<Paise>,
    pub value_paise: Option<Paise>,
    pub unrealized_paise: Option<Paise>,
    /// Of what was invested.
    pub unrealized_percent: Option<Percent>,
    /// Share of the portfolio's value (of what was invested when unpriced).
    pub weight_percent: Option<Percent>,
    pub sector: String,
    pub asset_class: AssetClass,
    /// Annual return of this security's imported trades, valued today (XIRR);
    /// absent without trades or a price.
    pub xirr_percent: Option<Percent>,
    /// When `lastPrice` was the price: a day's close counts at 15:30 IST,
    /// a Kite price when it was synced, a trade's price on its day.
    pub price_as_of: Option<DateTime<Utc>>,
    /// Where `lastPrice` comes from.
    pub price_source: Option<PriceSource>,
}

/// Where a holding's price comes from: the newest of the day's closing
/// price (NSE, else BSE, AMFI's NAV for funds), Kite's price at the last
/// sync, the holdings file imported, or the last trade.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PriceSource {
    /// NSE's closing price of `priceAsOf`'s day.
    NseClose,
    /// BSE's closing price (where NSE has none).
    BseClose,
    /// AMFI's net asset value (mutual funds).
    AmfiNav,
    /// Kite's last price at the last sync.
    Kite,
    /// The last price in the holdings file imported from Console.
    HoldingsFile,
    /// The price of the last trade imported.
    LastTrade,
    /// In a summary only: holdings priced from more than one source.
    Mixed,
}

impl HoldingInfo {
    /// What the holding is worth, or what went into it when unpriced.
    pub fn worth(&self) -> Paise {
        self.value_paise.unwrap_or(self.invested_paise)
    }
}

/// How holdings are ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HoldingSort {
    #[default]
    Value,
    Invested,
    Pnl,
    PnlPercent,
    Quantity,
    Symbol,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Order {
    Asc,
    #[default]
    Desc,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HoldingPage {
    pub holdings: Vec<HoldingInfo>,
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub holdings: usize,
    pub invested_paise: Paise,
    /// Of the holdings with a known price.
    pub value_paise: Paise,
    pub unrealized_paise: Paise,
    pub unrealized_percent: Option<Percent>,
    /// Every sale matched to a known buy, all years.
    pub realized_paise: Paise,
    /// Holdings without any price yet (not in `value`).
    pub unpriced: usize,
    /// Today's change in value, from the last sync's prices and previous
    /// closes; absent without a sync.
    pub day_change_paise: Option<Paise>,
    /// Annual return of the imported trades with what they still hold,
    /// valued today (XIRR); absent without trades.
    pub xirr_percent: Option<Percent>,
    /// The oldest price the value rests on (see each holding's own).
    pub price_as_of: Option<DateTime<Utc>>,
    /// Where the prices come from: their one source, or `mixed`.
    pub price_source: Option<PriceSource>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Portfolio {
    pub user_id: String,
    pub summary: Summary,
    /// Largest value first.
    pub holdings: Vec<HoldingInfo>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AllocationBy {
    Stock,
    Sector,
    AssetClass,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Slice {
    pub name: String,
    pub value_paise: Paise,
    pub percent: Percent,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Allocation {
    pub by: AllocationBy,
    /// `value` when every holding has a price, else `invested`.
    pub basis: &'static str,
    pub total_paise: Paise,
    /// Largest first.
    pub slices: Vec<Slice>,
}

/// Realized gains of one financial year.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct YearPnl {
    pub fy: String,
    pub short_term_paise: Paise,
    pub long_term_paise: Paise,
    pub total_paise: Paise,
    /// Sales (pieces of a sale matched to one buy) in the year.
    pub sales: usize,
}

/// A piece of a sale matched to one buy (FIFO).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Sale {
    pub symbol: String,
    pub isin: String,
    #[schema(value_type = String, format = Date)]
    pub sold_on: NaiveDate,
    #[schema(value_type = String, format = Date)]
    pub bought_on: NaiveDate,
    pub quantity: Quantity,
    pub buy_price_paise: Paise,
    pub sell_price_paise: Paise,
    pub pnl_paise: Paise,
    pub holding_days: i64,
    pub term: Term,
    pub financial_year: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Unmatched {
    pub symbol: String,
    pub isin: String,
    /// Sold without a known buy (bought before the imported history).
    pub quantity: Quantity,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RealizedPnl {
    pub fy: Option<String>,
    pub symbol: Option<String>,
    /// Sums over every sale the filter matches, not just this page.
    pub short_term_paise: Paise,
    pub long_term_paise: Paise,
    pub total_paise: Paise,
    /// Each financial year's sums (of the security, when one is asked for).
    pub years: Vec<YearPnl>,
    /// One page of the sales, oldest first.
    pub sales: Vec<Sale>,
    /// Sales the filter matches, on every page.
    pub total: usize,
    pub offset: usize,
    pub limit: usize,
    pub unmatched: Vec<Unmatched>,
}

/// A position of today, at the last sync.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PositionInfo {
    pub symbol: String,
    pub exchange: String,
    /// `CNC`, `MIS`, `NRML`, ...
    pub product: String,
    /// Negative when short.
    pub quantity: i64,
    /// In rupees, as Kite states it.
    #[schema(value_type = String)]
    pub average_price: Decimal,
    pub last_price_paise: Paise,
    pub pnl_paise: Paise,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PositionList {
    pub positions: Vec<PositionInfo>,
}

/// The portfolio at the end of one trading day (India time).
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DayValue {
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub value_paise: Paise,
    pub invested_paise: Paise,
    /// Value less invested.
    pub pnl_paise: Paise,
    /// The change in value not from money put in or taken out: value less
    /// the day before's, less `netFlowPaise`. Absent on the first day.
    pub day_change_paise: Option<Paise>,
    /// Money put in (buys) less money taken out (sells) that day, where
    /// the day's trades are known.
    pub net_flow_paise: Option<Paise>,
    /// NIFTY 50's close that day, in points, when loaded.
    #[schema(value_type = Option<String>)]
    pub nifty50: Option<Decimal>,
    pub source: DaySource,
}

/// Where a day's value comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DaySource {
    /// The daily refresh after the close: the holdings at that day's closes.
    Close,
    /// A sync from Kite that day (Kite's prices at the time of the sync).
    Sync,
    /// Worked out from the imported trades and that day's closes.
    Trades,
}

/// A period returns are asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Period {
    #[serde(rename = "1m")]
    OneMonth,
    #[serde(rename = "3m")]
    ThreeMonths,
    #[serde(rename = "6m")]
    SixMonths,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "3y")]
    ThreeYears,
    #[serde(rename = "5y")]
    FiveYears,
    #[serde(rename = "all")]
    All,
}

impl Period {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneMonth => "1m",
            Self::ThreeMonths => "3m",
            Self::SixMonths => "6m",
            Self::OneYear => "1y",
            Self::ThreeYears => "3y",
            Self::FiveYears => "5y",
            Self::All => "all",
        }
    }
}

/// One return, said plainly.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Return {
    /// What this number is, in a sentence a reader cannot mistake.
    pub label: &'static str,
    /// Over the whole period (not per year).
    pub percent: Option<Percent>,
    /// Per year, compounded; absent for periods under a year, where a
    /// yearly rate would mislead.
    pub annualized_percent: Option<Percent>,
}

/// How the portfolio did over a period, against NIFTY 50 over the same days.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Performance {
    pub period: Period,
    /// The day the period is measured from (its value is the starting point).
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    /// Trading days in the period with a value.
    pub days: usize,
    pub start_value_paise: Paise,
    pub end_value_paise: Paise,
    /// Money put in less money taken out during the period.
    pub net_flow_paise: Paise,
    /// Time-weighted: each day's change in value with money in and out
    /// taken away, chained. What the holdings did; comparable with an index.
    pub time_weighted: Return,
    /// Money-weighted (XIRR): the yearly rate that turns the starting value
    /// and every amount put in or taken out into the ending value. What the
    /// investor earned, timing of their buys and sells included.
    pub money_weighted: Return,
    /// NIFTY 50's price return from the first day's close to the last's.
    pub nifty50: Return,
    /// Time-weighted return less NIFTY 50's, in percentage points.
    pub excess_percent: Option<Percent>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct History {
    pub days: Vec<DayValue>,
}

/// What a sync found.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SyncReport {
    pub holdings: usize,
    pub positions: usize,
    pub mutual_funds: usize,
    pub value_paise: Paise,
    pub invested_paise: Paise,
    /// The IST day of the snapshot recorded.
    #[schema(value_type = String, format = Date)]
    pub day: NaiveDate,
    pub synced_at: DateTime<Utc>,
    /// As in an import's report: actions that would explain where Kite's
    /// holdings and the imported trades disagree.
    pub suggested_actions: Vec<SuggestedAction>,
}

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// Console's tradebook: one row per executed trade.
    Tradebook,
    /// Console's (or Kite's) holdings export: what is held now.
    Holdings,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tradebook => "tradebook",
            Self::Holdings => "holdings",
        }
    }

    /// The kind [`Kind::as_str`] names.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Tradebook, Self::Holdings]
            .into_iter()
            .find(|k| k.as_str() == text)
    }
}

/// A row of a file that was not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Skipped {
    /// Line number in the file (the header is line 1).
    pub line: usize,
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportReport {
    pub import_id: String,
    pub kind: Kind,
    /// Lines after the header that were not empty.
    pub rows: usize,
    /// Rows stored now.
    pub imported: u64,
    /// Rows that were already stored (an overlapping file).
    pub duplicates: u64,
    /// Rows not taken, with why: the first 100 by line.
    pub skipped: Vec<Skipped>,
    /// How many rows were not taken in all.
    pub skipped_count: u64,
    /// Securities whose stated holding and the tradebook's FIFO holding
    /// differ by a clean ratio: a split, bonus or consolidation KiteMate
    /// does not know of would explain it. At most 50.
    pub suggested_actions: Vec<SuggestedAction>,
}

/// A corporate action that would explain why a holdings export (or Kite)
/// and the tradebook disagree, ready to declare.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SuggestedAction {
    pub symbol: String,
    pub isin: String,
    /// What the holdings export or Kite says is held.
    pub stated_quantity: Quantity,
    /// What the trades come to, first in first out.
    pub fifo_quantity: Quantity,
    /// `statedQuantity` : `fifoQuantity`, in lowest terms.
    pub ratio_new: u32,
    pub ratio_old: u32,
    /// In words: which actions would explain it.
    pub explanation: String,
    /// `POST /portfolio/corporate-actions` bodies that would apply it, one
    /// per action that fits (a split or a bonus change the tax differently):
    /// the ex-date is the day after the last trade; correct it if later.
    pub declare: Vec<DeclareAction>,
}

/// One user's portfolio today, worked out once per day and version for
/// the services that read all of it (chat, widgets).
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

/// An import, as the list shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportInfo {
    pub id: String,
    pub kind: Kind,
    pub file_name: Option<String>,
    pub rows: u64,
    pub imported: u64,
    pub duplicates: u64,
    /// Rows not taken; `GET /portfolio/imports/{id}` lists the first 100.
    pub skipped_count: u64,
    pub created_at: DateTime<Utc>,
}

/// One import with the lines it skipped.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportDetail {
    #[serde(flatten)]
    pub import: ImportInfo,
    /// The first 100 lines skipped, with why.
    pub skipped: Vec<Skipped>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ImportList {
    pub imports: Vec<ImportInfo>,
    /// Imports in all.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Which trades to list: one security, a span of days (either end open).
#[derive(Debug, Clone, Default)]
pub struct TradeFilter {
    /// A symbol or an ISIN, upper case.
    pub symbol: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// What some of a user's trades add up to (read by chat, not an endpoint).
#[derive(Debug, Clone, Default)]
pub struct TradeTally {
    pub count: usize,
    pub quantity: Quantity,
    /// Sum of quantity × price.
    pub value_paise: Paise,
    /// The earliest and the latest of them.
    pub first: Option<TradeInfo>,
    pub last: Option<TradeInfo>,
}

/// A stored trade.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TradeInfo {
    pub trade_id: String,
    pub order_id: String,
    pub symbol: String,
    pub isin: String,
    pub exchange: String,
    pub segment: String,
    #[schema(value_type = String, format = Date)]
    pub trade_date: NaiveDate,
    pub executed_at: Option<String>,
    pub side: Side,
    pub quantity: Quantity,
    pub price_paise: Paise,
    pub value_paise: Paise,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TradePage {
    pub trades: Vec<TradeInfo>,
    /// Trades matching the filter, on every page.
    pub total: i64,
    pub offset: i64,
    pub limit: i64,
}

/// Which way a trade went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Buy => "buy",
            Self::Sell => "sell",
        }
    }

    /// The side [`Side::as_str`] names.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Buy, Self::Sell]
            .into_iter()
            .find(|s| s.as_str() == text)
    }
}

/// A corporate action the user declares for their own portfolio, where
/// no source KiteMate reads has it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, validator::Validate)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeclareAction {
    pub kind: crate::market::ActionKind,
    /// The security's ISIN (or give `symbol`): one of your trades' or holdings'.
    #[schema(pattern = "^[A-Z]{2}[A-Z0-9]{9}[0-9]$")]
    pub isin: Option<String>,
    #[schema(pattern = "^[A-Z0-9&._-]{1,32}$")]
    pub symbol: Option<String>,
    /// The ex-date: trades from this day on are of the changed shares.
    /// From 1990-01-01 to a year from today.
    pub ex_date: NaiveDate,
    /// A bonus: when the shares were allotted (their acquisition date);
    /// the ex-date when left out. Up to 90 days after the ex-date.
    pub allotted_on: Option<NaiveDate>,
    /// `ratioNew` shares (of `intoIsin` for a merger or demerger) for
    /// every `ratioOld` held. A split has ratioNew > ratioOld, a
    /// consolidation ratioNew < ratioOld, an ISIN change ratioNew = ratioOld.
    #[schema(minimum = 1, maximum = 1000)]
    #[validate(range(min = 1, max = 1_000))]
    pub ratio_new: u32,
    #[schema(minimum = 1, maximum = 1000)]
    #[validate(range(min = 1, max = 1_000))]
    pub ratio_old: u32,
    /// A merger, demerger or ISIN change (required), or a split that
    /// re-listed the shares under a new ISIN: where the shares went.
    #[schema(pattern = "^[A-Z]{2}[A-Z0-9]{9}[0-9]$")]
    pub into_isin: Option<String>,
    #[schema(pattern = "^[A-Z0-9&._-]{1,32}$")]
    pub into_symbol: Option<String>,
    /// A demerger (required): the percent of the parent's cost the new
    /// shares carry, more than 0 and less than 100, as the company announced.
    #[schema(pattern = "^[0-9]{1,2}(\\.[0-9]{1,4})?$", example = "4.68")]
    pub cost_share_percent: Option<String>,
    /// Where the action is documented; at most 200 characters.
    #[schema(max_length = 200)]
    #[validate(length(max = 200))]
    pub note: Option<String>,
}

/// The corporate actions that touch the user's securities.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorporateActionList {
    /// Oldest ex-date first; at most 500.
    pub actions: Vec<crate::market::CorporateAction>,
    /// How many there are in all.
    pub total: usize,
    /// How many of them the user declared, and the most they may.
    pub declared: usize,
    pub max_declared: usize,
}
