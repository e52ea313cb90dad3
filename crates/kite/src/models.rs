//! What Kite answers, typed. Prices are exact decimals (see [`crate::money`]);
//! fields Kite has added over the years are optional, so older answers read too.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};

use crate::money::{decimal, decimal_opt};

/// Kite's `yyyy-mm-dd hh:mm:ss` (IST, no zone); empty or null reads as `None`.
fn ist_time<'de, D: Deserializer<'de>>(de: D) -> Result<Option<NaiveDateTime>, D::Error> {
    let text = Option::<String>::deserialize(de)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S")
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

fn date_opt<'de, D: Deserializer<'de>>(de: D) -> Result<Option<NaiveDate>, D::Error> {
    let text = Option::<String>::deserialize(de)?;
    match text.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(t) => NaiveDate::parse_from_str(t, "%Y-%m-%d")
            .map(Some)
            .map_err(serde::de::Error::custom),
    }
}

/// `null` where Kite sometimes sends it for a string.
fn string_or_null<'de, D: Deserializer<'de>>(de: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(de)?.unwrap_or_default())
}

/// A logged-in session, from exchanging a request token.
#[derive(Clone, Deserialize)]
pub struct Session {
    pub user_id: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub user_shortname: String,
    #[serde(default, deserialize_with = "string_or_null")]
    pub email: String,
    #[serde(default)]
    pub user_type: String,
    #[serde(default)]
    pub broker: String,
    #[serde(default)]
    pub exchanges: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    /// Sent on every later call. Never log it.
    pub access_token: String,
    #[serde(default)]
    pub public_token: String,
    #[serde(default, deserialize_with = "ist_time")]
    pub login_time: Option<NaiveDateTime>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("user_id", &self.user_id)
            .field("user_name", &self.user_name)
            .field("access_token", &"***")
            .field("login_time", &self.login_time)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Profile {
    pub user_id: String,
    #[serde(default)]
    pub user_type: String,
    #[serde(default, deserialize_with = "string_or_null")]
    pub email: String,
    #[serde(default)]
    pub user_name: String,
    #[serde(default)]
    pub user_shortname: String,
    #[serde(default)]
    pub broker: String,
    #[serde(default)]
    pub exchanges: Vec<String>,
    #[serde(default)]
    pub products: Vec<String>,
    #[serde(default)]
    pub avatar_url: Option<String>,
}

/// Funds and margin use of one segment (equity or commodity).
#[derive(Debug, Clone, Deserialize)]
pub struct SegmentMargins {
    #[serde(default)]
    pub enabled: bool,
    /// May be negative.
    #[serde(deserialize_with = "decimal")]
    pub net: Decimal,
    pub available: Available,
    pub utilised: Utilised,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Available {
    #[serde(default, deserialize_with = "decimal")]
    pub adhoc_margin: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub cash: Decimal,
    #[serde(default, deserialize_with = "decimal_opt")]
    pub opening_balance: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    pub live_balance: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal")]
    pub collateral: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub intraday_payin: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Utilised {
    #[serde(default, deserialize_with = "decimal")]
    pub debits: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub exposure: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub m2m_realised: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub m2m_unrealised: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub option_premium: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub payout: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub span: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub holding_sales: Decimal,
    #[serde(default, deserialize_with = "decimal_opt")]
    pub turnover: Option<Decimal>,
    #[serde(default, deserialize_with = "decimal_opt")]
    pub delivery: Option<Decimal>,
}

/// `GET /user/margins`: both segments (either may be absent for an account).
#[derive(Debug, Clone, Deserialize)]
pub struct Margins {
    pub equity: Option<SegmentMargins>,
    pub commodity: Option<SegmentMargins>,
}

/// A long-term (demat) equity holding.
#[derive(Debug, Clone, Deserialize)]
pub struct Holding {
    pub tradingsymbol: String,
    pub exchange: String,
    pub instrument_token: u32,
    /// Stable across exchanges and renames: the key to merge with Console data.
    #[serde(default)]
    pub isin: String,
    #[serde(default)]
    pub product: String,
    /// Settled quantity in demat.
    pub quantity: i64,
    /// Bought, not yet delivered.
    #[serde(default)]
    pub t1_quantity: i64,
    #[serde(default)]
    pub realised_quantity: i64,
    #[serde(default)]
    pub used_quantity: i64,
    #[serde(default)]
    pub opening_quantity: i64,
    #[serde(default)]
    pub collateral_quantity: i64,
    #[serde(deserialize_with = "decimal")]
    pub average_price: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub close_price: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub pnl: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub day_change: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub day_change_percentage: Decimal,
    #[serde(default)]
    pub discrepancy: bool,
}

impl Holding {
    /// What the user owns, delivered or not.
    pub fn total_quantity(&self) -> i64 {
        self.quantity.saturating_add(self.t1_quantity)
    }
}

/// One line of the position book.
#[derive(Debug, Clone, Deserialize)]
pub struct Position {
    pub tradingsymbol: String,
    pub exchange: String,
    pub instrument_token: u32,
    pub product: String,
    /// Negative when short.
    pub quantity: i64,
    #[serde(default)]
    pub overnight_quantity: i64,
    #[serde(default = "one", deserialize_with = "decimal")]
    pub multiplier: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub average_price: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub close_price: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub value: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub pnl: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub m2m: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub unrealised: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub realised: Decimal,
    #[serde(default)]
    pub buy_quantity: i64,
    #[serde(default, deserialize_with = "decimal")]
    pub buy_price: Decimal,
    #[serde(default)]
    pub sell_quantity: i64,
    #[serde(default, deserialize_with = "decimal")]
    pub sell_price: Decimal,
    #[serde(default)]
    pub day_buy_quantity: i64,
    #[serde(default)]
    pub day_sell_quantity: i64,
}

fn one() -> Decimal {
    Decimal::ONE
}

/// `GET /portfolio/positions`: the net book and today's activity.
#[derive(Debug, Clone, Deserialize)]
pub struct Positions {
    #[serde(default)]
    pub net: Vec<Position>,
    #[serde(default)]
    pub day: Vec<Position>,
}

/// A mutual-fund (Coin) holding.
#[derive(Debug, Clone, Deserialize)]
pub struct MfHolding {
    #[serde(default)]
    pub folio: Option<String>,
    /// The fund's name.
    pub fund: String,
    /// The fund's ISIN.
    pub tradingsymbol: String,
    #[serde(deserialize_with = "decimal")]
    pub average_price: Decimal,
    /// The latest NAV.
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    #[serde(default, deserialize_with = "date_opt")]
    pub last_price_date: Option<NaiveDate>,
    #[serde(default, deserialize_with = "decimal")]
    pub pnl: Decimal,
    /// Units; fractional.
    #[serde(deserialize_with = "decimal")]
    pub quantity: Decimal,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq)]
pub struct Ohlc {
    #[serde(deserialize_with = "decimal")]
    pub open: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub high: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub low: Decimal,
    /// The previous day's close.
    #[serde(deserialize_with = "decimal")]
    pub close: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Ltp {
    pub instrument_token: u32,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
}

#[derive(Debug, Clone, Deserialize)]
pub struct OhlcQuote {
    pub instrument_token: u32,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    pub ohlc: Ohlc,
}

#[derive(Debug, Clone, Deserialize)]
pub struct DepthEntry {
    #[serde(deserialize_with = "decimal")]
    pub price: Decimal,
    pub quantity: i64,
    pub orders: i64,
}

#[derive(Debug, Clone, Deserialize)]
pub struct MarketDepth {
    #[serde(default)]
    pub buy: Vec<DepthEntry>,
    #[serde(default)]
    pub sell: Vec<DepthEntry>,
}

/// `GET /quote`: the full quote of one instrument.
#[derive(Debug, Clone, Deserialize)]
pub struct Quote {
    pub instrument_token: u32,
    #[serde(default, deserialize_with = "ist_time")]
    pub timestamp: Option<NaiveDateTime>,
    #[serde(default, deserialize_with = "ist_time")]
    pub last_trade_time: Option<NaiveDateTime>,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    #[serde(default)]
    pub last_quantity: i64,
    #[serde(default)]
    pub buy_quantity: i64,
    #[serde(default)]
    pub sell_quantity: i64,
    #[serde(default)]
    pub volume: i64,
    #[serde(default, deserialize_with = "decimal")]
    pub average_price: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub net_change: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub lower_circuit_limit: Decimal,
    #[serde(default, deserialize_with = "decimal")]
    pub upper_circuit_limit: Decimal,
    pub ohlc: Ohlc,
    #[serde(default)]
    pub depth: Option<MarketDepth>,
}

/// One candle of historical data; `oi` when asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candle {
    pub time: chrono::DateTime<chrono::FixedOffset>,
    pub open: Decimal,
    pub high: Decimal,
    pub low: Decimal,
    pub close: Decimal,
    pub volume: i64,
    pub oi: Option<i64>,
}

/// A row of the instruments dump.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct Instrument {
    pub instrument_token: u32,
    pub exchange_token: u32,
    pub tradingsymbol: String,
    #[serde(default)]
    pub name: String,
    #[serde(deserialize_with = "decimal")]
    pub last_price: Decimal,
    #[serde(default, deserialize_with = "date_opt")]
    pub expiry: Option<NaiveDate>,
    #[serde(deserialize_with = "decimal")]
    pub strike: Decimal,
    #[serde(deserialize_with = "decimal")]
    pub tick_size: Decimal,
    pub lot_size: i64,
    pub instrument_type: String,
    pub segment: String,
    pub exchange: String,
}
