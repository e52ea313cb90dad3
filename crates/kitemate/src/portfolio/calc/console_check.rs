//! FIFO over a real Console tradebook, checked against Console's own Tax
//! P&L for the same account and year.
//!
//! How the expected values were found: `taxPnL-shortTerm.csv` is the user's
//! copy of the short-term table of Console's Tax P&L for FY 2024-25, made
//! from the same trades. For 27 of its 54 symbols every share sold that year
//! was also bought that year, so the tradebook alone determines the gain;
//! those are the symbols below, and for each the realized quantity and P&L
//! worked out here must equal Console's to the paisa. (The other 27 sold
//! shares bought before the tradebook starts, which the book reports as
//! unmatched rather than pricing; a Python FIFO over the same file agreed.)

use std::collections::HashMap;

use rust_decimal::Decimal;

use super::fifo::{Fill, Term, replay};
use crate::portfolio::import::{Table, tradebook};

const TRADEBOOK: &[u8] =
    include_bytes!("../../../tests/data/console/mohit-manna__capital-gain-fy-24-25__tradebook.csv");
const TAX_PNL: &str = include_str!(
    "../../../tests/data/console/mohit-manna__capital-gain-fy-24-25__taxPnL-shortTerm.csv"
);

const COVERED: &[&str] = &[
    "GODFRYPHLP",
    "INDIAMART",
    "OIL",
    "SUDARSCHEM",
    "SCHNEIDER",
    "ACE",
    "GESHIP",
    "BAJAJHIND",
    "PGEL",
    "WABAG",
    "BANKBARODA",
    "ICIL",
    "DEEPAKFERT",
    "VOLTAS",
    "SUVENPHAR",
    "ICICIBANK",
    "CHOLAHLDNG",
    "KFINTECH",
    "NUVAMA",
    "MOTILALOFS",
    "NATIONALUM",
    "GENUSPOWER",
    "SHAKTIPUMP",
    "BASF",
    "GSPL",
    "MCX",
    "GREAVESCOT",
];

#[test]
fn realized_gains_match_consoles_tax_pnl() -> Result<(), String> {
    let parsed = tradebook::parse(&Table::read(TRADEBOOK)?)?;
    let mut trades = parsed.rows;
    trades.sort_by(|a, b| (a.executed_at, &a.trade_id).cmp(&(b.executed_at, &b.trade_id)));
    let mut by_isin: HashMap<String, (String, Vec<Fill>)> = HashMap::new();
    for t in &trades {
        let entry = by_isin
            .entry(t.isin.clone())
            .or_insert_with(|| (t.symbol.trim_end_matches("-BE").to_string(), Vec::new()));
        entry.1.push(Fill {
            date: t.trade_date,
            side: t.side,
            quantity: t.quantity,
            price: t.price,
        });
    }
    let console: HashMap<&str, (Decimal, Decimal)> = TAX_PNL
        .lines()
        .skip(1)
        .filter_map(|line| {
            let cells: Vec<&str> = line.split('\t').collect();
            Some((
                *cells.first()?,
                (cells.get(1)?.parse().ok()?, cells.get(4)?.parse().ok()?),
            ))
        })
        .collect();
    let mut checked = 0;
    for (symbol, fills) in by_isin.values() {
        if !COVERED.contains(&symbol.as_str()) {
            continue;
        }
        let book = replay(fills);
        assert_eq!(book.unmatched_sold, Decimal::ZERO, "{symbol}");
        assert!(
            book.realized.iter().all(|r| r.term == Term::ShortTerm),
            "{symbol}"
        );
        let quantity: Decimal = book.realized.iter().map(|r| r.quantity).sum();
        let pnl: Decimal = book.realized.iter().map(|r| r.pnl).sum();
        let (want_quantity, want_pnl) = console
            .get(symbol.as_str())
            .copied()
            .ok_or(symbol.clone())?;
        assert_eq!(
            (quantity.normalize(), pnl.normalize()),
            (want_quantity, want_pnl),
            "{symbol}"
        );
        checked += 1;
    }
    assert_eq!(checked, COVERED.len());
    Ok(())
}
