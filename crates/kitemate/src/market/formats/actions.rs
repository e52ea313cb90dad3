//! Corporate actions as NSE publishes them: the corporate-actions export
//! of its website (`"SYMBOL","COMPANY NAME","SERIES","PURPOSE",…,"EX-DATE",…`)
//! and the `Bc` file of its daily market-data archive
//! (`SERIES,SYMBOL,SECURITY,RECORD_DT,…,EX_DT,…,PURPOSE`). Both name a
//! security by symbol only, and say what happened in words
//! (`BONUS 1:1`, `FVSPLT FRM RS 10 TO RS 2`); the words this reads are
//! splits, consolidations and bonuses. Dividends and the like change no
//! share count and are passed over; demergers and amalgamations are
//! counted as needing their terms declared, since the files carry none.

use std::collections::HashSet;

use chrono::{Days, NaiveDate};

use super::{FormatError, cell, date, each_row, fail};

/// What a file's row says happened to a security's shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Announced {
    /// `new` shares for every `old` (a split when new > old).
    Split { new: u32, old: u32 },
    /// `new` bonus shares for every `held`.
    Bonus { new: u32, held: u32 },
}

/// One action read from a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAction {
    pub symbol: String,
    pub ex_date: NaiveDate,
    pub record_date: Option<NaiveDate>,
    /// When bonus shares were allotted: the files do not say, so the day
    /// after the record date (NSE's T+1 credit), else after the ex-date.
    pub allotted_on: NaiveDate,
    pub announced: Announced,
    /// The file's words, as published (at most 120 characters).
    pub purpose: String,
}

/// What a corporate-actions file held.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParsedActions {
    pub actions: Vec<ParsedAction>,
    /// Rows of demergers, amalgamations and other schemes: their terms
    /// are not in the file.
    pub need_terms: Vec<String>,
    /// Rows that change no share count (dividends, AGMs, interest).
    pub skipped: usize,
}

/// Series whose shares are equity: a `Bc` file lists each security once
/// per series it trades in.
fn equity_series(series: &str) -> bool {
    matches!(
        series,
        "" | "EQ" | "BE" | "BZ" | "SM" | "ST" | "SZ" | "E1" | "IQ" | "BL" | "T0" | "TL"
    )
}

/// Reads either layout.
pub fn parse(text: &str) -> Result<ParsedActions, FormatError> {
    let header = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .to_ascii_lowercase();
    let names = if header.contains("ex_dt") {
        ["SYMBOL", "SERIES", "PURPOSE", "EX_DT", "RECORD_DT"]
    } else if header.contains("ex-date") {
        ["SYMBOL", "SERIES", "PURPOSE", "EX-DATE", "RECORD DATE"]
    } else {
        return fail("line 1: not NSE's corporate actions (no PURPOSE and EX-DATE or EX_DT)");
    };
    let mut out = ParsedActions::default();
    let mut seen: HashSet<(String, NaiveDate, String)> = HashSet::new();
    each_row(text, names, |line, record, at| {
        let [symbol, series, purpose, ex, record_date] = *at;
        let symbol = cell(record, symbol, line, names[0])?.to_ascii_uppercase();
        let series = cell(record, series, line, names[1])?.to_ascii_uppercase();
        let purpose = cell(record, purpose, line, names[2])?;
        let blank = |s: &str| s.is_empty() || s == "-";
        let ex_cell = cell(record, ex, line, names[3])?;
        let record_cell = record.get(record_date).unwrap_or("");
        let record_on = if blank(record_cell) {
            None
        } else {
            Some(date(line, names[4], record_cell)?)
        };
        let ex_date = if blank(ex_cell) {
            record_on
        } else {
            Some(date(line, names[3], ex_cell)?)
        };
        if !equity_series(&series) || symbol.is_empty() {
            out.skipped += 1;
            return Ok(());
        }
        let words = purpose.to_ascii_uppercase();
        let announced = read_purpose(&words);
        let Some(ex_date) = ex_date else {
            out.skipped += 1;
            return Ok(());
        };
        if announced.is_empty() {
            if [
                "DEMERGER",
                "AMALGAMATION",
                "MERGER",
                "SCHEME OF ARRANGEMENT",
            ]
            .iter()
            .any(|w| words.contains(w))
                && seen.insert((symbol.clone(), ex_date, words))
            {
                out.need_terms
                    .push(format!("{symbol} {ex_date}: {}", purpose.trim()));
            } else {
                out.skipped += 1;
            }
            return Ok(());
        }
        if !seen.insert((symbol.clone(), ex_date, words)) {
            // The same action once per series.
            out.skipped += 1;
            return Ok(());
        }
        let allotted_on = record_on
            .unwrap_or(ex_date)
            .checked_add_days(Days::new(1))
            .unwrap_or(ex_date);
        for announced in announced {
            out.actions.push(ParsedAction {
                symbol: symbol.clone(),
                ex_date,
                record_date: record_on,
                allotted_on,
                announced,
                purpose: purpose.trim().chars().take(120).collect(),
            });
        }
        Ok(())
    })?;
    Ok(out)
}

/// The numbers in `text` in order: `RS.10TORS.2` gives 10 and 2.
fn numbers(text: &str) -> Vec<rust_decimal::Decimal> {
    let mut out = Vec::new();
    let mut current = String::new();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        let digit_follows = bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_digit() || (b == b'.' && !current.is_empty() && digit_follows) {
            current.push(b as char);
        } else if !current.is_empty() {
            out.extend(current.parse::<rust_decimal::Decimal>().ok());
            current.clear();
        }
    }
    out.extend(current.parse::<rust_decimal::Decimal>().ok());
    out
}

/// `a` to `b` as the smallest whole numbers in the same proportion.
pub fn whole_ratio(a: rust_decimal::Decimal, b: rust_decimal::Decimal) -> Option<(u32, u32)> {
    use rust_decimal::prelude::ToPrimitive as _;
    if a <= rust_decimal::Decimal::ZERO || b <= rust_decimal::Decimal::ZERO {
        return None;
    }
    let scale = a.scale().max(b.scale()).min(6);
    let factor = rust_decimal::Decimal::from(10_u64.pow(scale));
    let (x, y) = (
        (a * factor).trunc().to_u64()?,
        (b * factor).trunc().to_u64()?,
    );
    let (mut p, mut q) = (x, y);
    while q != 0 {
        (p, q) = (q, p % q);
    }
    let (x, y) = (x / p.max(1), y / p.max(1));
    let bound = 1_000_000;
    (x > 0 && y > 0 && x <= bound && y <= bound).then_some((x as u32, y as u32))
}

/// The share-count changes `purpose` (upper case) announces: one part or
/// two (`BON 1:2/SPLIT RS.10TORS.2`).
pub fn read_purpose(purpose: &str) -> Vec<Announced> {
    let mut out = Vec::new();
    // `/-` closes a rupee amount (`RS 10/- PER SHARE`); a lone `/` joins two actions.
    let purpose = purpose.replace("/-", " ");
    for part in purpose.split(['/', ';']) {
        let part = part.trim();
        let is_bonus = part.starts_with("BON") || part.contains("BONUS");
        let is_split =
            part.contains("SPLIT") || part.contains("SPLT") || part.contains("SUB-DIVISION");
        let is_consolidation = part.contains("CONSOLIDATION");
        if is_bonus && !is_split {
            // `BONUS 1:2`: one new share for every two held.
            if let Some((new, held)) = part
                .split_once(':')
                .and_then(|(a, b)| Some((*numbers(a).last()?, *numbers(b).first()?)))
                .and_then(|(a, b)| whole_ratio(a, b))
            {
                out.push(Announced::Bonus { new, held });
            }
        } else if is_split || is_consolidation {
            // `FROM RS 10 TO RS 2`: each share of face value 10 becomes five of 2.
            if let [from, to, ..] = numbers(part)[..]
                && let Some((new, old)) = whole_ratio(from, to)
                && new != old
            {
                out.push(Announced::Split { new, old });
            }
        }
    }
    out
}
