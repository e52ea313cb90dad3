//! Holdings exports: Kite's holdings download (`Instrument, Qty., Avg. cost,
//! LTP, …`) and Console's holdings statement converted to CSV (`Symbol,
//! ISIN, …, Quantity Available, …, Average Price, Previous Closing Price`).

use rust_decimal::Decimal;

use super::fields;
use super::table::{self, Table};
use super::{Parsed, Skipped};

/// The most rows a holdings export may have: accounts hold hundreds of
/// securities, and a snapshot is replaced whole on every import.
pub const ROWS_MAX: usize = 100_000;

/// One holding as the file states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HoldingRow {
    pub line: usize,
    pub symbol: String,
    /// Console's statement has it; Kite's download does not.
    pub isin: String,
    pub quantity: Decimal,
    pub average_price: Decimal,
    /// The last price the file carries, if any.
    pub last_price: Option<Decimal>,
}

enum Layout {
    Kite {
        qty: usize,
        avg: usize,
        ltp: Option<usize>,
    },
    Console {
        isin: usize,
        available: usize,
        pledged: Vec<usize>,
        avg: usize,
        close: Option<usize>,
    },
}

/// Reads a holdings export; `Err` says what makes the file not one.
pub fn parse(table: &Table) -> Result<Parsed<HoldingRow>, String> {
    let (header_at, symbol, layout) = if let Some((at, c)) =
        table.header(&["instrument", "qty", "avgcost"])
    {
        let layout = Layout::Kite {
            qty: c.index("qty").unwrap_or_default(),
            avg: c.index("avgcost").unwrap_or_default(),
            ltp: c.index("ltp"),
        };
        (at, c.index("instrument").unwrap_or_default(), layout)
    } else if let Some((at, c)) = table.header(&["symbol", "quantityavailable", "averageprice"]) {
        let layout = Layout::Console {
            isin: c.index("isin").unwrap_or(usize::MAX),
            available: c.index("quantityavailable").unwrap_or_default(),
            // Pledged shares are held in addition to the available ones.
            pledged: ["quantitypledgedmargin", "quantitypledgedloan"]
                .iter()
                .filter_map(|n| c.index(n))
                .collect(),
            avg: c.index("averageprice").unwrap_or_default(),
            close: c.index("previousclosingprice"),
        };
        (at, c.index("symbol").unwrap_or_default(), layout)
    } else {
        return Err(
            "not a holdings export: missing columns Instrument, Qty., Avg. cost (Kite) or \
             Symbol, Quantity Available, Average Price (Console)"
                .into(),
        );
    };
    let mut parsed = Parsed::default();
    table.rows_after(header_at, |line, row| {
        if row.is_blank() || parsed.refused.is_some() {
            return;
        }
        parsed.rows_read += 1;
        if parsed.rows_read > ROWS_MAX {
            parsed.refused = Some(format!(
                "the file has more than {ROWS_MAX} holdings; is it a holdings export?"
            ));
            return;
        }
        let cell = |i: usize| row.cell(i);
        let skip = |reason: String| Skipped { line, reason };
        let name = cell(symbol);
        if name.is_empty() || name.eq_ignore_ascii_case("total") {
            parsed
                .skipped
                .push(skip("a total or empty row, not a holding".into()));
            return;
        }
        let name = match fields::symbol(name) {
            Ok(name) => name,
            Err(reason) => {
                parsed.skipped.push(skip(reason));
                return;
            }
        };
        let (quantity, average, last, isin) = match &layout {
            Layout::Kite { qty, avg, ltp } => (
                table::number(cell(*qty)),
                table::number(cell(*avg)),
                ltp.and_then(|i| table::number(cell(i))),
                String::new(),
            ),
            Layout::Console {
                isin,
                available,
                pledged,
                avg,
                close,
            } => {
                let held = pledged
                    .iter()
                    .try_fold(table::number(cell(*available)), |sum, i| {
                        Some(sum.map(|s| s + table::number(cell(*i)).unwrap_or_default()))
                    })
                    .flatten();
                (
                    held,
                    table::number(cell(*avg)),
                    close.and_then(|i| table::number(cell(i))),
                    cell(*isin).to_string(),
                )
            }
        };
        let Some(quantity) = quantity else {
            parsed
                .skipped
                .push(skip(format!("{name}: quantity is not a number")));
            return;
        };
        if quantity <= Decimal::ZERO {
            parsed.skipped.push(skip(format!(
                "{name}: quantity is {quantity}, nothing held"
            )));
            return;
        }
        let Some(average_price) = average.filter(|a| *a >= Decimal::ZERO) else {
            parsed
                .skipped
                .push(skip(format!("{name}: average cost is not a price")));
            return;
        };
        let last = last.filter(|p| *p >= Decimal::ZERO);
        let highest = average_price.max(last.unwrap_or_default());
        if let Some(reason) = fields::out_of_bounds(line, quantity, highest) {
            parsed.refused = Some(reason);
            return;
        }
        let isin = match fields::isin(&isin) {
            Ok(isin) => isin,
            Err(reason) => {
                parsed.skipped.push(skip(format!("{name}: {reason}")));
                return;
            }
        };
        parsed.rows.push(HoldingRow {
            line,
            symbol: name,
            isin,
            quantity: quantity.normalize(),
            average_price: average_price.normalize(),
            last_price: last.map(|p| p.normalize()),
        });
    })?;
    parsed.checked()
}
