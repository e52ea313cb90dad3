//! Reading a spreadsheet export as a table: the byte-order mark, CRLF or LF,
//! commas or tabs, preamble rows before the header, column names in any
//! order and case, quoted cells, and trailing empty fields.

use rust_decimal::Decimal;

/// A header name reduced to compare: `Avg. cost` → `avgcost`, `trade_date`
/// and `Trade Date` → `tradedate`.
pub fn normalize(name: &str) -> String {
    name.trim()
        .trim_start_matches('\u{feff}')
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '&')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The rows of a delimited file, with their 1-based line numbers.
#[derive(Debug)]
pub struct Table {
    pub rows: Vec<(usize, Vec<String>)>,
}

impl Table {
    /// Splits `bytes`; the delimiter is a tab when the first line has tabs
    /// and no commas, else a comma.
    pub fn read(bytes: &[u8]) -> Result<Self, String> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let text =
            std::str::from_utf8(bytes).map_err(|_| "the file is not UTF-8 text".to_string())?;
        let first = text.lines().next().unwrap_or_default();
        let delimiter = if first.contains('\t') && !first.contains(',') {
            b'\t'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(text.as_bytes());
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|err| format!("cannot read the file as CSV: {err}"))?;
            let line = record.position().map_or(0, |p| p.line() as usize);
            rows.push((line, record.iter().map(|c| c.trim().to_string()).collect()));
        }
        Ok(Self { rows })
    }

    /// The first row naming every one of `required` (normalized), and the
    /// index of each normalized name in it. Rows before it are preamble.
    pub fn header(&self, required: &[&str]) -> Option<(usize, Columns)> {
        self.rows
            .iter()
            .enumerate()
            .take(30)
            .find_map(|(at, (_, cells))| {
                let names: Vec<String> = cells.iter().map(|c| normalize(c)).collect();
                required
                    .iter()
                    .all(|r| names.iter().any(|n| n == r))
                    .then_some((at, Columns { names }))
            })
    }
}

/// Where each column is, by normalized name.
#[derive(Debug)]
pub struct Columns {
    names: Vec<String>,
}

impl Columns {
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// The first of `names` that is present.
    pub fn any(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.index(n))
    }

    /// Which of `wanted` are missing, as the file would name them.
    pub fn missing<'a>(&self, wanted: &[&'a str]) -> Vec<&'a str> {
        wanted
            .iter()
            .copied()
            .filter(|w| self.index(&normalize(w)).is_none())
            .collect()
    }
}

/// A number as spreadsheets write it: `1,063`, `"2.000000"`, `-6.54%`.
pub fn number(cell: &str) -> Option<Decimal> {
    let cleaned: String = cell
        .trim()
        .trim_end_matches('%')
        .chars()
        .filter(|c| *c != ',' && *c != '"' && *c != ' ' && *c != '₹')
        .collect();
    if cleaned.is_empty() {
        return None;
    }
    cleaned.parse::<Decimal>().ok().or_else(|| {
        // 1.5E+3 and the like, as some tools save large numbers.
        Decimal::from_scientific(&cleaned).ok()
    })
}

/// A date as exports write it: `2024-04-01`, `01-04-2024`, `01/04/2024`, `2024/04/01`.
pub fn date(cell: &str) -> Option<chrono::NaiveDate> {
    let cell = cell.trim();
    let cell = cell.split(['T', ' ']).next().unwrap_or(cell);
    // ISO dates (what Console writes) go through chrono's fast parser.
    if let Ok(day) = cell.parse() {
        return Some(day);
    }
    [
        "%Y-%m-%d", "%d-%m-%Y", "%d/%m/%Y", "%Y/%m/%d", "%d-%b-%Y", "%d %b %Y",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDate::parse_from_str(cell, f).ok())
}

/// `2024-04-01T09:57:47` or with a space instead of the `T`.
pub fn date_time(cell: &str) -> Option<chrono::NaiveDateTime> {
    let cell = cell.trim();
    if let Ok(at) = cell.parse() {
        return Some(at);
    }
    [
        "%Y-%m-%dT%H:%M:%S",
        "%Y-%m-%d %H:%M:%S",
        "%d-%m-%Y %H:%M:%S",
        "%d/%m/%Y %H:%M:%S",
    ]
    .iter()
    .find_map(|f| chrono::NaiveDateTime::parse_from_str(cell, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_compare_loosely() {
        assert_eq!(normalize("Avg. cost"), "avgcost");
        assert_eq!(normalize("\u{feff}trade_date"), "tradedate");
        assert_eq!(normalize(" Trade Date "), "tradedate");
        assert_eq!(normalize("P&L"), "p&l");
    }

    #[test]
    fn numbers_and_dates_in_their_many_spellings() {
        let d = |s: &str| s.parse::<Decimal>().ok();
        assert_eq!(number("1,063"), d("1063"));
        assert_eq!(number("\"2.000000\""), d("2.000000"));
        assert_eq!(number("-6.54%"), d("-6.54"));
        assert_eq!(number(""), None);
        assert_eq!(number("abc"), None);
        let day = chrono::NaiveDate::from_ymd_opt(2024, 4, 1);
        for text in [
            "2024-04-01",
            "01-04-2024",
            "01/04/2024",
            "2024/04/01",
            "2024-04-01T09:57:47",
        ] {
            assert_eq!(date(text), day, "{text}");
        }
        assert!(date_time("2024-04-01 09:57:47").is_some());
        assert!(date_time("2024-04-01T09:57:47").is_some());
    }
}
