//! NSE's industry of each NIFTY 500 company, from the list NSE Indices
//! publishes (`data/nifty500-sectors.csv`, see `data/SOURCES.md`).

use std::collections::HashMap;
use std::sync::LazyLock;

const LIST: &str = include_str!("../../../data/nifty500-sectors.csv");

/// What a security outside the list is filed under.
pub const UNCLASSIFIED: &str = "Unclassified";

struct Sectors {
    by_isin: HashMap<String, String>,
    by_symbol: HashMap<String, String>,
    /// Company name, symbol and ISIN, in the list's order.
    companies: Vec<(String, String, String)>,
}

static SECTORS: LazyLock<Sectors> = LazyLock::new(|| {
    let mut sectors = Sectors {
        by_isin: HashMap::new(),
        by_symbol: HashMap::new(),
        companies: Vec::new(),
    };
    // Company Name,Industry,Symbol,Series,ISIN Code, as NSE Indices publishes it.
    let mut reader = csv::Reader::from_reader(LIST.as_bytes());
    for record in reader.records().flatten() {
        if let (Some(name), Some(industry), Some(symbol), Some(isin)) =
            (record.get(0), record.get(1), record.get(2), record.get(4))
        {
            sectors.companies.push((
                name.trim().to_string(),
                symbol.trim().to_string(),
                isin.trim().to_string(),
            ));
            sectors
                .by_isin
                .insert(isin.trim().to_string(), industry.trim().to_string());
            sectors
                .by_symbol
                .insert(symbol.trim().to_string(), industry.trim().to_string());
        }
    }
    sectors
});

/// Every listed company: its name, symbol and ISIN.
pub fn companies() -> impl Iterator<Item = (&'static str, &'static str, &'static str)> {
    let sectors: &'static Sectors = &SECTORS;
    sectors
        .companies
        .iter()
        .map(|(n, s, i)| (n.as_str(), s.as_str(), i.as_str()))
}

/// The industry of the security with `isin` (or, failing that, `symbol`).
pub fn sector(isin: &str, symbol: &str) -> &'static str {
    let sectors: &'static Sectors = &SECTORS;
    sectors
        .by_isin
        .get(isin)
        .or_else(|| sectors.by_symbol.get(symbol))
        .map_or(UNCLASSIFIED, String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_companies_have_their_industry() {
        assert_eq!(sector("INE009A01021", ""), "Information Technology");
        assert_eq!(sector("", "HDFCBANK"), "Financial Services");
        assert_eq!(sector("INE000X00000", "NOSUCH"), UNCLASSIFIED);
        assert_eq!(
            SECTORS.by_isin.len(),
            501,
            "NIFTY 500 has 501 constituents in this list"
        );
    }
}
