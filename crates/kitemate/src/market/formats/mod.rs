//! The files market data comes in, read into closing prices: NSE's and
//! BSE's daily bhavcopies (the UDiFF layout from 8 July 2024 and each
//! exchange's older one), AMFI's NAV files and NSE's index closing values. A file is
//! read whole before anything is stored, so a malformed one is reported
//! with its line and never half-applied. Where each layout is documented:
//! `tests/data/market/SOURCES.md`.

pub mod actions;
mod amfi;
mod bhavcopy;
mod indices;

use std::io::Read as _;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Prices are kept in ten-thousandths of a rupee: NAVs have four places.
pub const SCALE: u32 = 4;
/// The highest price or index value a file may state (₹1 crore a unit).
const VALUE_MAX: i64 = 10_000_000;
/// Unzipped, a file may be this large: a full day's bhavcopy is ~1 MiB,
/// AMFI's NAV history for a month ~20 MiB.
pub const FILE_MAX: u64 = 256 << 20;

/// Which exchange or body published a price. Where two state a close for
/// the same security and day, the one listed first wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Nse,
    Bse,
    Amfi,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Nse => "nse",
            Self::Bse => "bse",
            Self::Amfi => "amfi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "nse" => Some(Self::Nse),
            "bse" => Some(Self::Bse),
            "amfi" => Some(Self::Amfi),
            _ => None,
        }
    }

    /// Lower wins.
    pub fn rank(self) -> i64 {
        self as i64
    }
}

/// The layouts this module reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// NSE's or BSE's UDiFF common bhavcopy (cash market).
    Udiff,
    /// NSE's equity bhavcopy before 8 July 2024 (`cmDDMONYYYYbhav.csv`).
    NseLegacy,
    /// BSE's equity bhavcopy with ISINs before 8 July 2024 (`EQ_ISINCODE_DDMMYY.CSV`).
    BseLegacy,
    /// AMFI's NAV of the day (`NAVAll.txt`) or its NAV history report.
    AmfiNav,
    /// NSE's closing values of its indices (`ind_close_all_DDMMYYYY.csv`).
    NseIndices,
}

impl Layout {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Udiff => "udiff-bhavcopy",
            Self::NseLegacy => "nse-bhavcopy",
            Self::BseLegacy => "bse-bhavcopy",
            Self::AmfiNav => "amfi-nav",
            Self::NseIndices => "nse-indices",
        }
    }
}

/// One security's closing price on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Close {
    pub day: NaiveDate,
    pub isin: String,
    /// The exchange's symbol, or the scheme's name for a fund.
    pub symbol: String,
    /// Rupees × 10⁴.
    pub close: i64,
    /// The day's highest traded price, rupees × 10⁴, where the file says:
    /// the fair market value of 31 January 2018 is that day's high.
    pub high: Option<i64>,
    pub source: Source,
}

/// One index's closing value on one day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexClose {
    pub day: NaiveDate,
    /// As NSE names it: `Nifty 50`.
    pub name: String,
    /// Points × 10⁴.
    pub close: i64,
}

/// What a file held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub layout: Layout,
    pub closes: Vec<Close>,
    pub indices: Vec<IndexClose>,
    /// Rows that are not a price of a listed security (bonds without an
    /// ISIN, funds with no NAV that day, unlisted series): counted, not errors.
    pub skipped: usize,
}

impl Parsed {
    fn new(layout: Layout) -> Self {
        Self {
            layout,
            closes: Vec::new(),
            indices: Vec::new(),
            skipped: 0,
        }
    }

    /// The days the file has prices for, oldest first.
    pub fn days(&self) -> Vec<NaiveDate> {
        let mut days: Vec<NaiveDate> = self
            .closes
            .iter()
            .map(|c| c.day)
            .chain(self.indices.iter().map(|i| i.day))
            .collect();
        days.sort_unstable();
        days.dedup();
        days
    }
}

/// Why a file could not be read: said with the line where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FormatError(pub String);

fn fail<T>(message: impl Into<String>) -> Result<T, FormatError> {
    Err(FormatError(message.into()))
}

/// Reads `bytes` (a CSV or text file, or a ZIP holding one) in whichever
/// layout its header shows.
pub fn parse(bytes: &[u8]) -> Result<Parsed, FormatError> {
    let unzipped;
    let bytes = if bytes.starts_with(b"PK\x03\x04") {
        unzipped = unzip(bytes)?;
        &unzipped[..]
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .or_else(|_| fail("the file is not text (UTF-8)"))?;
    let Some(header) = text.lines().find(|l| !l.trim().is_empty()) else {
        return fail("the file is empty");
    };
    let header = header.to_ascii_lowercase();
    if header.contains("clspric") && header.contains("isin") {
        bhavcopy::udiff(text)
    } else if header.contains("series") && header.contains("close") && header.contains("isin") {
        bhavcopy::legacy(text)
    } else if header.contains("sc_code") && header.contains("isin_code") {
        bhavcopy::bse_legacy(text)
    } else if header.contains("net asset value") && header.contains(';') {
        amfi::nav(text)
    } else if header.contains("closing index value") {
        indices::closes(text)
    } else {
        fail(format!(
            "line 1: not a layout KiteMate reads (NSE or BSE bhavcopy, AMFI NAV, NSE index closes): {}",
            shown(text.lines().next().unwrap_or(""))
        ))
    }
}

/// Reads NSE's corporate actions: its website's export, a `Bc` file, or
/// the day's market-data archive (`PRDDMMYY.zip`) holding the `Bc` file.
pub fn parse_actions(bytes: &[u8]) -> Result<actions::ParsedActions, FormatError> {
    let unzipped;
    let bytes = if bytes.starts_with(b"PK\x03\x04") {
        unzipped = unzip_member(bytes, |name| {
            let name = name.rsplit('/').next().unwrap_or(name).to_ascii_lowercase();
            name.starts_with("bc") && name.ends_with(".csv")
        })?;
        &unzipped[..]
    } else {
        bytes
    };
    let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
        .or_else(|_| fail("the file is not text (UTF-8)"))?;
    actions::parse(text)
}

/// The member of a ZIP that `wanted` picks (the only one, if it holds one).
fn unzip_member(bytes: &[u8], wanted: impl Fn(&str) -> bool) -> Result<Vec<u8>, FormatError> {
    let mut archive = open_zip(bytes)?;
    if archive.len() == 1 {
        return read_entry(&mut archive, 0);
    }
    let Some(index) = (0..archive.len()).find(|i| {
        archive
            .by_index(*i)
            .is_ok_and(|file| file.name().is_ok_and(|name| wanted(&name)))
    }) else {
        return fail("the ZIP holds no corporate-actions (Bc) file");
    };
    read_entry(&mut archive, index)
}

/// The one file inside a ZIP, as the exchanges ship them.
fn unzip(bytes: &[u8]) -> Result<Vec<u8>, FormatError> {
    let mut archive = open_zip(bytes)?;
    if archive.len() != 1 {
        return fail(format!(
            "the ZIP holds {} files; one was expected",
            archive.len()
        ));
    }
    read_entry(&mut archive, 0)
}

type Zip<'b> = zip::ZipArchive<std::io::Cursor<&'b [u8]>>;

fn open_zip(bytes: &[u8]) -> Result<Zip<'_>, FormatError> {
    zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .or_else(|err| fail(format!("the ZIP cannot be read: {err}")))
}

/// The `index`th file of `archive`, unzipped, at most [`FILE_MAX`] bytes.
fn read_entry(archive: &mut Zip<'_>, index: usize) -> Result<Vec<u8>, FormatError> {
    let file = archive
        .by_index(index)
        .or_else(|err| fail(format!("the ZIP cannot be read: {err}")))?;
    let mut out = Vec::new();
    file.take(FILE_MAX + 1)
        .read_to_end(&mut out)
        .or_else(|err| fail(format!("the ZIP cannot be read: {err}")))?;
    if out.len() as u64 > FILE_MAX {
        return fail(format!(
            "the file in the ZIP is larger than {FILE_MAX} bytes"
        ));
    }
    Ok(out)
}

/// A cell as shown in a message: at most 40 characters, control characters out.
fn shown(cell: &str) -> String {
    let cell: String = cell.chars().filter(|c| !c.is_control()).take(40).collect();
    format!("{cell:?}")
}

/// Whether `s` has an ISIN's shape: two letters, nine letters or digits, a digit.
pub fn is_isin(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 12
        && b[..2].iter().all(u8::is_ascii_uppercase)
        && b[2..11]
            .iter()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && b[11].is_ascii_digit()
}

/// A price or index value: a positive decimal of at most ₹1 crore, kept
/// to four places. `None` for an empty cell or a dash (no trade).
fn value(line: usize, column: &str, cell: &str) -> Result<Option<i64>, FormatError> {
    let cell = cell.trim();
    if cell.is_empty() || cell == "-" || cell.eq_ignore_ascii_case("n.a.") {
        return Ok(None);
    }
    let Ok(number) = cell.replace(',', "").parse::<Decimal>() else {
        return fail(format!(
            "line {line}: {column} {} is not a number",
            shown(cell)
        ));
    };
    if number.is_sign_negative() || number > Decimal::from(VALUE_MAX) {
        return fail(format!(
            "line {line}: {column} {} is outside 0 to {VALUE_MAX}",
            shown(cell)
        ));
    }
    if number.is_zero() {
        return Ok(None);
    }
    Ok(scaled(number))
}

/// `value` as stored: rupees (or points) × 10⁴, rounded to four places.
pub fn scaled(value: Decimal) -> Option<i64> {
    i64::try_from((value.round_dp(SCALE) * Decimal::from(10_i64.pow(SCALE))).trunc()).ok()
}

/// A date in any of the ways these files write one.
fn date(line: usize, column: &str, cell: &str) -> Result<NaiveDate, FormatError> {
    let cell = cell.trim();
    for format in [
        "%Y-%m-%d", "%d-%b-%Y", "%d-%m-%Y", "%d/%m/%Y", "%d-%b-%y", "%Y%m%d",
    ] {
        // `%Y` takes `18` as the year 18: a two-digit year is `%y`'s.
        if let Ok(day) = NaiveDate::parse_from_str(cell, format)
            && chrono::Datelike::year(&day) >= 1900
        {
            return Ok(day);
        }
    }
    fail(format!(
        "line {line}: {column} {} is not a date",
        shown(cell)
    ))
}

/// Finds the columns a layout needs in its header row, by name, ignoring
/// case and spaces around; says which is missing.
fn columns<const N: usize>(
    header: &csv::StringRecord,
    names: [&str; N],
) -> Result<[usize; N], FormatError> {
    let mut out = [0; N];
    for (slot, name) in out.iter_mut().zip(names) {
        *slot = header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
            .ok_or_else(|| FormatError(format!("line 1: the column {name} is missing")))?;
    }
    Ok(out)
}

/// Calls `row` with each non-empty row of the CSV `text` (its line number,
/// the row, and where the `names` columns are in it). Rows may be longer
/// or shorter than the header: NSE's old files end each row with a comma.
fn each_row<const N: usize>(
    text: &str,
    names: [&str; N],
    mut row: impl FnMut(usize, &csv::StringRecord, &[usize; N]) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    let mut rows = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let header = rows
        .headers()
        .or_else(|err| fail(format!("line 1: {err}")))?
        .clone();
    let at = columns(&header, names)?;
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    while rows
        .read_record(&mut record)
        .or_else(|err| fail(format!("line {}: {err}", line + 1)))?
    {
        line += 1;
        if !record.iter().all(str::is_empty) {
            row(line, &record, &at)?;
        }
    }
    Ok(())
}

/// The `index`th cell of `row`, or an error naming the line and column.
fn cell<'r>(
    row: &'r csv::StringRecord,
    index: usize,
    line: usize,
    column: &str,
) -> Result<&'r str, FormatError> {
    row.get(index)
        .ok_or_else(|| FormatError(format!("line {line}: the row ends before {column}")))
}

#[cfg(test)]
mod tests;
