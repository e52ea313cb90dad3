//! Console tradebooks: one row per fill, read into trades with a key that
//! stays the same when the same trade comes again in another file.

use chrono::{NaiveDate, NaiveDateTime};
use rust_decimal::Decimal;
use sha2::{Digest as _, Sha256};

use super::fields;
use super::table::{self, Table, normalize};
use super::{Parsed, Skipped};

/// The most rows one tradebook may have (a million import in seconds; the
/// HTTP upload's 20 MiB is far fewer).
pub const ROWS_MAX: usize = 5_000_000;

pub use crate::portfolio::model::Side;

/// One fill, as the tradebook lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trade {
    pub line: usize,
    pub symbol: String,
    /// The security across exchanges and renames; empty for derivatives.
    pub isin: String,
    pub trade_date: NaiveDate,
    pub exchange: String,
    pub segment: String,
    pub series: String,
    pub side: Side,
    pub quantity: Decimal,
    /// Rounded to the tick: exports carry float noise such as 123.449997.
    pub price: Decimal,
    /// Kite's id, or one made from the row when the file has none.
    pub trade_id: String,
    pub order_id: String,
    pub executed_at: Option<NaiveDateTime>,
}

/// The columns a tradebook must have, as Console names them.
pub const REQUIRED: &[&str] = &["trade_date", "trade_type", "quantity", "price"];

/// A cell as stored: tabs and line breaks (which no real export has in a
/// name or an id) become spaces, so stored trades stay one line each.
fn text(cell: &str) -> String {
    if cell.bytes().any(|b| b.is_ascii_control()) {
        cell.replace(|c: char| c.is_ascii_control(), " ")
    } else {
        cell.to_string()
    }
}

/// Reads a tradebook; `Err` says what makes the file not one. (The app
/// reads through [`parse_each`]; tests read whole tables.)
#[cfg(test)]
pub fn parse(table: &Table) -> Result<Parsed<Trade>, String> {
    let mut rows = Vec::new();
    let mut parsed = parse_each(table, |trade| {
        rows.push(trade);
        Ok(())
    })?;
    parsed.rows = rows;
    Ok(parsed)
}

/// [`parse`], handing each trade to `each` as it is read instead of
/// collecting them: a million-row file is never held as a million
/// `Trade`s. A trade `each` refuses (`Err(reason)`) is skipped like a
/// row that did not read. The rows of the answer are left empty. A
/// refused file may have handed some trades over already; drop them with
/// the error.
pub fn parse_each(
    table: &Table,
    mut each: impl FnMut(Trade) -> Result<(), String>,
) -> Result<Parsed<Trade>, String> {
    let wanted: Vec<String> = REQUIRED.iter().map(|c| normalize(c)).collect();
    let wanted: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let Some((header_at, columns)) = table.header(&wanted) else {
        let names = table.first_names();
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|r| !names.contains(&normalize(r)))
            .collect();
        return Err(format!(
            "not a tradebook: missing columns {}",
            missing.join(", ")
        ));
    };
    let symbol = columns.any(&["symbol", "tradingsymbol", "instrument"]);
    let isin = columns.index("isin");
    if symbol.is_none() && isin.is_none() {
        return Err("not a tradebook: missing columns symbol or isin".into());
    }
    let col = |name: &str| columns.index(name);
    let (date_col, type_col, qty_col, price_col) = (
        col("tradedate").unwrap_or_default(),
        col("tradetype").unwrap_or_default(),
        col("quantity").unwrap_or_default(),
        col("price").unwrap_or_default(),
    );
    let (exchange_col, segment_col, series_col) = (col("exchange"), col("segment"), col("series"));
    let (trade_id_col, order_id_col) = (col("tradeid"), col("orderid"));
    let time_col = columns.any(&["orderexecutiontime", "tradetime", "executiontime"]);

    let mut parsed = Parsed::default();
    let mut seen_synthetic = std::collections::HashMap::<String, u32>::new();
    table.rows_after(header_at, |line, row| {
        if row.is_blank() || parsed.refused.is_some() {
            return;
        }
        parsed.rows_read += 1;
        if parsed.rows_read > ROWS_MAX {
            parsed.refused = Some(format!(
                "the file has more than {ROWS_MAX} trades; import it in parts"
            ));
            return;
        }
        let cell = |i: Option<usize>| row.get(i);
        let skip = |reason: String| Skipped { line, reason };
        if row.first_filled().eq_ignore_ascii_case("total") {
            parsed.skipped.push(skip("a total row, not a trade".into()));
            return;
        }
        let Some(trade_date) = table::date(cell(Some(date_col))) else {
            parsed.skipped.push(skip(format!(
                "trade_date: {} is not a date",
                fields::shown(cell(Some(date_col)))
            )));
            return;
        };
        let side = match cell(Some(type_col)) {
            t if t.eq_ignore_ascii_case("buy") || t.eq_ignore_ascii_case("b") => Side::Buy,
            t if t.eq_ignore_ascii_case("sell") || t.eq_ignore_ascii_case("s") => Side::Sell,
            other => {
                parsed.skipped.push(skip(format!(
                    "trade_type: {} is neither buy nor sell",
                    fields::shown(other)
                )));
                return;
            }
        };
        let quantity = match table::number(cell(Some(qty_col))) {
            Some(q) if q > Decimal::ZERO => q.normalize(),
            _ => {
                parsed.skipped.push(skip(format!(
                    "quantity: {} is not a positive number",
                    fields::shown(cell(Some(qty_col)))
                )));
                return;
            }
        };
        let segment_cell = cell(segment_col).to_ascii_uppercase();
        let tick_places = if matches!(segment_cell.as_str(), "CDS" | "BCD") {
            4
        } else {
            2
        };
        let price = match table::number(cell(Some(price_col))) {
            Some(p) if p >= Decimal::ZERO => p.round_dp(tick_places).normalize(),
            _ => {
                parsed.skipped.push(skip(format!(
                    "price: {} is not a price",
                    fields::shown(cell(Some(price_col)))
                )));
                return;
            }
        };
        if let Some(reason) = fields::out_of_bounds(line, quantity, price) {
            parsed.refused = Some(reason);
            return;
        }
        // Every text cell that is stored is checked against what exchanges
        // write, so no cell can break the stored format or carry markup.
        let checked = (|| {
            let symbol_text = match cell(symbol) {
                "" => String::new(),
                s => fields::symbol(s)?,
            };
            let isin_text = fields::isin(cell(isin))?;
            if symbol_text.is_empty() && isin_text.is_empty() {
                return Err("neither a symbol nor an ISIN".to_string());
            }
            let exchange = match fields::code("exchange", cell(exchange_col))? {
                e if e.is_empty() => "NSE".to_string(),
                e => e,
            };
            let segment = fields::code("segment", cell(segment_col))?;
            let order_id = fields::id("order_id", cell(order_id_col))?;
            let trade_id = fields::id("trade_id", cell(trade_id_col))?;
            Ok((symbol_text, isin_text, exchange, segment, order_id, trade_id))
        })();
        let (symbol_text, isin_text, exchange, segment, order_id, trade_id) = match checked {
            Ok(cells) => cells,
            Err(reason) => {
                parsed.skipped.push(skip(reason));
                return;
            }
        };
        let executed_at = table::date_time(cell(time_col));
        let trade_id = match trade_id.as_str() {
            "" => {
                // Files re-saved without the trade_id column still import
                // once: the id is made from what the row says, and repeats
                // of an identical row within one file are numbered.
                let basis = format!(
                    "{trade_date}|{symbol_text}|{isin_text}|{exchange}|{}|{quantity}|{price}|{order_id}|{:?}",
                    side.as_str(),
                    executed_at
                );
                let digest = Sha256::digest(basis.as_bytes());
                let hash: String = platform::mac::hex(&digest[..12]);
                let n = seen_synthetic.entry(hash.clone()).or_insert(0);
                *n += 1;
                format!("row-{hash}-{n}")
            }
            _ => trade_id,
        };
        let taken = each(Trade {
            line,
            symbol: symbol_text,
            isin: isin_text,
            trade_date,
            exchange,
            segment: if segment.is_empty() {
                "EQ".into()
            } else {
                segment
            },
            series: text(cell(series_col)),
            side,
            quantity,
            price,
            trade_id,
            order_id,
            executed_at,
        });
        if let Err(reason) = taken {
            parsed.skipped.push(skip(reason));
        }
    })?;
    parsed.checked()
}
