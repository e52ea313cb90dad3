//! Reading a spreadsheet export as a table: the byte-order mark, CRLF or LF,
//! commas or tabs, preamble rows before the header, column names in any
//! order and case, quoted cells, and trailing empty fields.

use std::fs::File;
use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;

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

/// How many rows from the top may come before the header (a preamble).
const HEAD_ROWS: usize = 30;

/// A delimited file, read lazily: the first rows are kept to find the
/// header in, and the rest are visited one at a time through one reused
/// record, so a million-row file costs no allocation per cell.
#[derive(Debug)]
pub struct Table<'a> {
    source: Source<'a>,
    delimiter: u8,
    /// The first rows with their 1-based line numbers.
    head: Vec<(usize, Vec<String>)>,
}

/// One row's cells, trimmed.
#[derive(Debug)]
pub struct Row<'r>(&'r csv::StringRecord);

impl Row<'_> {
    /// The cell at `i`, or `""` past the end.
    pub fn cell(&self, i: usize) -> &str {
        self.0.get(i).map_or("", str::trim)
    }

    /// Like [`Row::cell`] for a column that may be absent.
    pub fn get(&self, i: Option<usize>) -> &str {
        i.map_or("", |i| self.cell(i))
    }

    pub fn is_blank(&self) -> bool {
        self.0.iter().all(|c| c.trim().is_empty())
    }

    /// The first cell with something in it.
    pub fn first_filled(&self) -> &str {
        self.0
            .iter()
            .map(str::trim)
            .find(|c| !c.is_empty())
            .unwrap_or("")
    }
}

/// Where the rows come from: bytes in memory, or a file read a piece at a
/// time (a shell import of a file of any size holds none of it).
#[derive(Debug)]
enum Source<'a> {
    Bytes(&'a [u8]),
    File(&'a Path),
}

const NOT_TEXT: &str = "the file is not UTF-8 text";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The delimiter a first line says: a tab when it has tabs and no commas.
fn delimiter(first: &[u8]) -> u8 {
    if first.contains(&b'\t') && !first.contains(&b',') {
        b'\t'
    } else {
        b','
    }
}

impl<'a> Table<'a> {
    /// Checks `bytes` is text and reads its first rows; the delimiter is a
    /// tab when the first line has tabs and no commas, else a comma.
    pub fn read(bytes: &'a [u8]) -> Result<Self, String> {
        let text = bytes.strip_prefix(BOM).unwrap_or(bytes);
        std::str::from_utf8(text).map_err(|_| NOT_TEXT.to_string())?;
        let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
        Self::start(Source::Bytes(text), delimiter(first))
    }

    /// [`Table::read`] for a file, which is read as its rows are visited
    /// (twice: the head, then every row) and never held whole. Bytes that
    /// are not UTF-8 are found when their row is read.
    pub fn open(file: &'a Path) -> Result<Self, String> {
        let mut reader = Self::file_reader(file)?;
        let mut first = Vec::new();
        // The first line decides the delimiter; a line this long is no header.
        (&mut reader)
            .take(64 * 1024)
            .read_until(b'\n', &mut first)
            .map_err(|err| format!("cannot read the file: {err}"))?;
        Self::start(Source::File(file), delimiter(&first))
    }

    /// The file, buffered, past a byte-order mark.
    fn file_reader(file: &Path) -> Result<BufReader<File>, String> {
        let opened = File::open(file).map_err(|err| format!("cannot read the file: {err}"))?;
        let mut reader = BufReader::with_capacity(256 * 1024, opened);
        let has_bom = reader
            .fill_buf()
            .map_err(|err| format!("cannot read the file: {err}"))?
            .starts_with(BOM);
        if has_bom {
            reader.consume(BOM.len());
        }
        Ok(reader)
    }

    /// Reads the first rows of `source`.
    fn start(source: Source<'a>, delimiter: u8) -> Result<Self, String> {
        let mut table = Self {
            source,
            delimiter,
            head: Vec::new(),
        };
        let mut head = Vec::new();
        table.visit(0, |line, row| {
            head.push((line, row.0.iter().map(|c| c.trim().to_string()).collect()));
            head.len() < HEAD_ROWS
        })?;
        table.head = head;
        Ok(table)
    }

    fn reader(&self) -> Result<csv::Reader<Box<dyn Read + 'a>>, String> {
        let input: Box<dyn Read + 'a> = match self.source {
            Source::Bytes(text) => Box::new(text),
            Source::File(file) => Box::new(Self::file_reader(file)?),
        };
        Ok(csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(self.delimiter)
            .from_reader(input))
    }

    /// Calls `each` with the line number and cells of every row from the
    /// `skip`th on, until it returns `false`.
    fn visit(
        &self,
        skip: usize,
        mut each: impl FnMut(usize, Row<'_>) -> bool,
    ) -> Result<(), String> {
        let mut reader = self.reader()?;
        let mut record = csv::StringRecord::new();
        let mut index = 0;
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {}
                Err(err) if matches!(err.kind(), csv::ErrorKind::Utf8 { .. }) => {
                    return Err(NOT_TEXT.to_string());
                }
                Err(err) => return Err(format!("cannot read the file as CSV: {err}")),
            }
            index += 1;
            if index <= skip {
                continue;
            }
            let line = record.position().map_or(0, |p| p.line() as usize);
            if !each(line, Row(&record)) {
                return Ok(());
            }
        }
    }

    /// Calls `each` with every row after the header at `header_at`.
    pub fn rows_after(
        &self,
        header_at: usize,
        mut each: impl FnMut(usize, Row<'_>),
    ) -> Result<(), String> {
        self.visit(header_at + 1, |line, row| {
            each(line, row);
            true
        })
    }

    /// The first row with anything in it, normalized, to say what a file
    /// that is not the wanted kind has instead.
    pub fn first_names(&self) -> Vec<String> {
        self.head
            .iter()
            .find(|(_, cells)| cells.iter().any(|c| !c.is_empty()))
            .map(|(_, c)| c.iter().map(|n| normalize(n)).collect())
            .unwrap_or_default()
    }

    /// The first row naming every one of `required` (normalized), and the
    /// index of each normalized name in it. Rows before it are preamble.
    pub fn header(&self, required: &[&str]) -> Option<(usize, Columns)> {
        self.head.iter().enumerate().find_map(|(at, (_, cells))| {
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
}

/// A number as spreadsheets write it: `1,063`, `"2.000000"`, `-6.54%`.
pub fn number(cell: &str) -> Option<Decimal> {
    let cell = cell.trim();
    // Plain numbers, nearly every cell, parse without a copy.
    if cell
        .bytes()
        .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-')
        && let Ok(n) = cell.parse::<Decimal>()
    {
        return Some(n);
    }
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
