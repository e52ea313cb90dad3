//! Well-known recent corporate actions shipped with KiteMate, with where
//! each is documented: NSE's files name securities by symbol and carry no
//! terms for mergers and demergers, so these are kept by hand. Each entry
//! is checked in `docs/tax.md`'s worked examples and the tests.

use chrono::NaiveDate;
use rust_decimal::Decimal;

use super::model::{ActionKind, CorporateAction};

struct Entry {
    isin: &'static str,
    symbol: &'static str,
    kind: ActionKind,
    ex_date: (i32, u32, u32),
    allotted_on: Option<(i32, u32, u32)>,
    ratio: (u32, u32),
    into: Option<(&'static str, &'static str)>,
    /// Percent of cost to the demerged company, in hundredths.
    cost_share_e2: Option<i64>,
    note: &'static str,
}

const ENTRIES: &[Entry] = &[
    Entry {
        isin: "INE001A01036",
        symbol: "HDFC",
        kind: ActionKind::Merger,
        ex_date: (2023, 7, 13),
        allotted_on: None,
        ratio: (42, 25),
        into: Some(("INE040A01034", "HDFCBANK")),
        cost_share_e2: None,
        note: "HDFC Ltd amalgamated into HDFC Bank, effective 1 July 2023: 42 HDFC Bank \
               shares for every 25 HDFC shares held on the record date, 13 July 2023 \
               (HDFC Bank's and HDFC's filings to NSE and BSE, 30 June and 13 July 2023). \
               Cost and holding period carry over (s.49(1), s.2(42A)(b)).",
    },
    Entry {
        isin: "INE002A01018",
        symbol: "RELIANCE",
        kind: ActionKind::Demerger,
        ex_date: (2023, 7, 20),
        allotted_on: None,
        ratio: (1, 1),
        into: Some(("INE758E01017", "JIOFIN")),
        cost_share_e2: Some(468),
        note: "Reliance Strategic Investments (Jio Financial Services) demerged from \
               Reliance Industries: one share for every Reliance share held on the record \
               date, 20 July 2023. Reliance's intimation of the cost of acquisition: 4.68% \
               of the cost to Jio Financial Services, 95.32% stays with Reliance (s.49(2C), (2D)).",
    },
    Entry {
        isin: "INE939A01011",
        symbol: "STAR",
        kind: ActionKind::Demerger,
        ex_date: (2024, 12, 6),
        allotted_on: None,
        ratio: (1, 2),
        into: Some(("INE013P01021", "ONESOURCE")),
        cost_share_e2: Some(1065),
        note: "Strides Pharma Science's CDMO and soft-gelatin businesses demerged into \
               Onesource Specialty Pharma: one Onesource share for every two Strides shares \
               held on the record date, 6 December 2024. Strides' guidance on the cost of \
               acquisition: 89.35% stays with Strides, 10.65% goes to Onesource; the date \
               carries over (s.49(2C), (2D), s.2(42A) Explanation 1(g)).",
    },
    Entry {
        isin: "INE002A01018",
        symbol: "RELIANCE",
        kind: ActionKind::Bonus,
        ex_date: (2024, 10, 28),
        allotted_on: Some((2024, 10, 29)),
        ratio: (1, 1),
        into: None,
        cost_share_e2: None,
        note: "Reliance Industries bonus 1:1, record and ex-date 28 October 2024, shares \
               allotted 29 October 2024 (Reliance's filings of 16 and 29 October 2024). \
               Bonus shares cost nil and are acquired on allotment (s.55(2)(aa)(iiia)).",
    },
    Entry {
        isin: "INE239A01016",
        symbol: "NESTLEIND",
        kind: ActionKind::Split,
        ex_date: (2024, 1, 5),
        allotted_on: None,
        ratio: (10, 1),
        into: Some(("INE239A01024", "NESTLEIND")),
        cost_share_e2: None,
        note: "Nestle India split each share of face value ₹10 into ten of ₹1, record and \
               ex-date 5 January 2024 (Nestle India's filing of 19 October 2023); the shares \
               were re-listed under a new ISIN. Cost and date carry over.",
    },
];

fn day((y, m, d): (i32, u32, u32)) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default()
}

/// Every curated action, as the store's rows read.
pub fn all() -> Vec<CorporateAction> {
    ENTRIES
        .iter()
        .map(|e| CorporateAction {
            id: format!(
                "curated-{}-{}-{}",
                e.symbol.to_ascii_lowercase(),
                e.kind.as_str(),
                day(e.ex_date)
            ),
            isin: Some(e.isin.to_string()),
            symbol: e.symbol.to_string(),
            kind: e.kind,
            ex_date: day(e.ex_date),
            allotted_on: e.allotted_on.map(day),
            ratio_new: e.ratio.0,
            ratio_old: e.ratio.1,
            into_isin: e.into.map(|(isin, _)| isin.to_string()),
            into_symbol: e.into.map(|(_, symbol)| symbol.to_string()),
            cost_share_percent: e.cost_share_e2.map(|c| Decimal::new(c, 2)),
            source: "curated".into(),
            note: e.note.split_whitespace().collect::<Vec<_>>().join(" "),
        })
        .collect()
}
