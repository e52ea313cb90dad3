//! A Kite Connect v3 client: login and session exchange, the portfolio and
//! market-data calls, the instruments dump, historical candles, and the
//! ticker's binary protocol.
//!
//! - Prices are exact [`rust_decimal::Decimal`]s, read from Kite's floats
//!   through their shortest decimal text.
//! - Idempotent calls are retried on 429, 5xx and network errors with
//!   jittered backoff; every call waits its turn under Kite's per-key limits
//!   ([`limiter`]), which an app with several processes can share.
//! - An expired session is [`Error::Token`]: the user must log in again.
//! - With the `fake` feature, [`fake`] serves Kite's official mock responses
//!   for tests, checking what the real API checks.

pub mod client;
pub mod error;
#[cfg(feature = "fake")]
pub mod fake;
pub mod limiter;
pub mod models;
pub mod money;
pub mod ticker;

pub use client::{Config, Interval, Kite, UserClient, checksum, split_range};
pub use error::{Error, ErrorKind};
pub use limiter::{Class, Limiter, LocalLimiter};

/// Some of Kite's answers (and files saved by Windows tools) start with a
/// UTF-8 byte-order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// Reads the instruments dump (CSV with a header row).
pub fn parse_instruments(csv: &[u8]) -> Result<Vec<models::Instrument>, Error> {
    let mut reader = csv::Reader::from_reader(strip_bom(csv));
    reader
        .deserialize()
        .enumerate()
        .map(|(i, row)| {
            row.map_err(|err| Error::Decode(format!("instruments row {}: {err}", i + 2)))
        })
        .collect()
}

#[derive(serde::Deserialize)]
pub(crate) struct RawCandles {
    pub candles: Vec<Vec<serde_json::Value>>,
}

/// `[time, open, high, low, close, volume(, oi)]`, the time like
/// `2017-12-15T09:15:00+0530` (an offset without a colon).
pub(crate) fn parse_candle(row: &[serde_json::Value]) -> Result<models::Candle, Error> {
    let bad = |what: &str| Error::Decode(format!("candle {row:?}: {what}"));
    let time = row
        .first()
        .and_then(|t| t.as_str())
        .and_then(|t| chrono::DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S%z").ok())
        .ok_or_else(|| bad("no time"))?;
    let price = |i: usize| -> Result<rust_decimal::Decimal, Error> {
        let value = row.get(i).ok_or_else(|| bad("too short"))?;
        money::decimal(value).map_err(|_| bad("not a number"))
    };
    let int = |i: usize| row.get(i).and_then(serde_json::Value::as_i64);
    Ok(models::Candle {
        time,
        open: price(1)?,
        high: price(2)?,
        low: price(3)?,
        close: price(4)?,
        volume: int(5).ok_or_else(|| bad("no volume"))?,
        oi: int(6),
    })
}
