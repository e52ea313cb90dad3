//! Exchanges' daily bhavcopies: every security traded that day with its
//! closing price and high, in the UDiFF layout NSE and BSE share since
//! 8 July 2024 and in each exchange's older equity layout.

use std::collections::HashMap;

use chrono::NaiveDate;

use super::{
    Close, FormatError, Layout, Parsed, Source, cell, date, each_row, fail, is_isin, shown, value,
};

/// Equity series win over others when a file lists one ISIN twice.
fn series_rank(series: &str) -> u8 {
    match series {
        "EQ" | "A" | "B" => 0,
        "BE" | "BZ" | "T" | "X" | "XT" => 1,
        _ => 2,
    }
}

/// The closes of a file, one per ISIN and day: the equity series' one.
#[derive(Default)]
struct Kept {
    seen: HashMap<(String, NaiveDate), (usize, u8)>,
}

impl Kept {
    fn keep(&mut self, parsed: &mut Parsed, close: Close, series: &str) {
        let rank = series_rank(series);
        match self.seen.get_mut(&(close.isin.clone(), close.day)) {
            Some((at, kept)) => {
                if rank < *kept {
                    parsed.closes[*at] = close;
                    *kept = rank;
                }
                parsed.skipped += 1;
            }
            None => {
                self.seen
                    .insert((close.isin.clone(), close.day), (parsed.closes.len(), rank));
                parsed.closes.push(close);
            }
        }
    }
}

/// One row's fields, by the names its layout gives them.
struct Row<'r> {
    source: Source,
    day: NaiveDate,
    isin: String,
    symbol: &'r str,
    series: &'r str,
    close: Option<i64>,
    high: Option<i64>,
}

/// Reads a bhavcopy whose columns are named `names` (day, ISIN, symbol,
/// series, close, and the exchange when the layout says it).
fn bhavcopy<const N: usize>(
    text: &str,
    layout: Layout,
    names: [&str; N],
    read: impl for<'r> Fn(usize, &'r csv::StringRecord, &[usize; N]) -> Result<Row<'r>, FormatError>,
) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::new(layout);
    let mut kept = Kept::default();
    each_row(text, names, |line, record, at| {
        let row = read(line, record, at)?;
        let (Some(close), true) = (row.close, is_isin(&row.isin)) else {
            parsed.skipped += 1;
            return Ok(());
        };
        let close = Close {
            day: row.day,
            isin: row.isin,
            symbol: row.symbol.to_string(),
            close,
            high: row.high,
            source: row.source,
        };
        kept.keep(&mut parsed, close, row.series);
        Ok(())
    })?;
    Ok(parsed)
}

/// NSE's or BSE's UDiFF common bhavcopy; `Src` names the exchange.
pub fn udiff(text: &str) -> Result<Parsed, FormatError> {
    let names = [
        "TradDt", "Src", "ISIN", "TckrSymb", "SctySrs", "ClsPric", "HghPric",
    ];
    bhavcopy(text, Layout::Udiff, names, |line, record, at| {
        let [day, source, isin, symbol, series, close, high] = *at;
        let source = match cell(record, source, line, "Src")? {
            s if s.eq_ignore_ascii_case("NSE") => Source::Nse,
            s if s.eq_ignore_ascii_case("BSE") => Source::Bse,
            other => {
                return fail(format!(
                    "line {line}: Src {} is neither NSE nor BSE",
                    shown(other)
                ));
            }
        };
        Ok(Row {
            source,
            day: date(line, "TradDt", cell(record, day, line, "TradDt")?)?,
            isin: cell(record, isin, line, "ISIN")?.to_ascii_uppercase(),
            symbol: cell(record, symbol, line, "TckrSymb")?,
            series: cell(record, series, line, "SctySrs")?,
            close: value(line, "ClsPric", cell(record, close, line, "ClsPric")?)?,
            high: value(line, "HghPric", cell(record, high, line, "HghPric")?)?,
        })
    })
}

/// NSE's equity bhavcopy before UDiFF: `SYMBOL,SERIES,…,CLOSE,…,TIMESTAMP,…,ISIN,`.
pub fn legacy(text: &str) -> Result<Parsed, FormatError> {
    let names = ["TIMESTAMP", "ISIN", "SYMBOL", "SERIES", "CLOSE", "HIGH"];
    bhavcopy(text, Layout::NseLegacy, names, |line, record, at| {
        let [day, isin, symbol, series, close, high] = *at;
        Ok(Row {
            source: Source::Nse,
            day: date(line, "TIMESTAMP", cell(record, day, line, "TIMESTAMP")?)?,
            isin: cell(record, isin, line, "ISIN")?.to_ascii_uppercase(),
            symbol: cell(record, symbol, line, "SYMBOL")?,
            series: cell(record, series, line, "SERIES")?,
            close: value(line, "CLOSE", cell(record, close, line, "CLOSE")?)?,
            high: value(line, "HIGH", cell(record, high, line, "HIGH")?)?,
        })
    })
}

/// BSE's equity bhavcopy with ISINs before UDiFF:
/// `SC_CODE,SC_NAME,SC_GROUP,…,HIGH,LOW,CLOSE,…,ISIN_CODE,TRADING_DATE,…`.
/// BSE gives no ticker there, so the scrip's name stands for the symbol.
pub fn bse_legacy(text: &str) -> Result<Parsed, FormatError> {
    let names = [
        "TRADING_DATE",
        "ISIN_CODE",
        "SC_NAME",
        "SC_GROUP",
        "CLOSE",
        "HIGH",
    ];
    bhavcopy(text, Layout::BseLegacy, names, |line, record, at| {
        let [day, isin, symbol, series, close, high] = *at;
        Ok(Row {
            source: Source::Bse,
            day: date(
                line,
                "TRADING_DATE",
                cell(record, day, line, "TRADING_DATE")?,
            )?,
            isin: cell(record, isin, line, "ISIN_CODE")?.to_ascii_uppercase(),
            symbol: cell(record, symbol, line, "SC_NAME")?,
            series: cell(record, series, line, "SC_GROUP")?,
            close: value(line, "CLOSE", cell(record, close, line, "CLOSE")?)?,
            high: value(line, "HIGH", cell(record, high, line, "HIGH")?)?,
        })
    })
}
