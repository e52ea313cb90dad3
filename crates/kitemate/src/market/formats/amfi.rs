//! AMFI's NAV files: `NAVAll.txt` (every scheme's latest NAV) and the NAV
//! history report, both `;`-separated with heading lines (fund house,
//! scheme category) between the rows.

use std::collections::HashSet;

use super::{Close, FormatError, Layout, Parsed, Source, date, fail, is_isin, value};

/// Scheme names are kept to this many characters.
const NAME_MAX: usize = 120;

/// A header name without spaces and case: AMFI writes `ISIN Div Payout/ ISIN
/// Growth` in one file and `ISIN Div Payout/ISIN Growth` in the other.
fn squeezed(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

pub fn nav(text: &str) -> Result<Parsed, FormatError> {
    let mut lines = text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((_, header)) = lines.next() else {
        return fail("the file is empty");
    };
    let header: Vec<String> = header.split(';').map(squeezed).collect();
    let find_any = |names: &[&str], shown_as: &str| {
        header
            .iter()
            .position(|h| names.iter().any(|name| h.starts_with(name)))
            .ok_or_else(|| FormatError(format!("line 1: the column {shown_as} is missing")))
    };
    let find = |name: &str, shown_as: &str| find_any(&[name], shown_as);
    let code_at = find("schemecode", "Scheme Code")?;
    // The history report has called it `NAV Name` since August 2026.
    let name_at = find_any(&["schemename", "navname"], "Scheme Name")?;
    let growth_at = find("isindivpayout", "ISIN Div Payout/ISIN Growth")?;
    let reinvest_at = find("isindivreinvestment", "ISIN Div Reinvestment")?;
    let nav_at = find("netassetvalue", "Net Asset Value")?;
    let day_at = find("date", "Date")?;
    let width = header.len();
    let mut parsed = Parsed::new(Layout::AmfiNav);
    let mut seen = HashSet::new();
    for (index, text) in lines {
        let line = index + 1;
        let cells: Vec<&str> = text.split(';').map(str::trim).collect();
        // Fund houses and scheme categories head the groups of rows.
        if cells.len() < width || !cells[code_at].bytes().all(|b| b.is_ascii_digit()) {
            if cells.len() > 1 {
                return fail(format!(
                    "line {line}: {} fields where {width} were expected",
                    cells.len()
                ));
            }
            continue;
        }
        let nav = value(line, "Net Asset Value", cells[nav_at])?;
        let day = date(line, "Date", cells[day_at])?;
        let isins: Vec<String> = [cells[growth_at], cells[reinvest_at]]
            .into_iter()
            .map(str::to_ascii_uppercase)
            .filter(|i| is_isin(i))
            .collect();
        let Some(nav) = nav.filter(|_| !isins.is_empty()) else {
            parsed.skipped += 1;
            continue;
        };
        let name: String = cells[name_at]
            .chars()
            .filter(|c| !c.is_control())
            .take(NAME_MAX)
            .collect();
        for isin in isins {
            // AMFI's file now and then lists a scheme twice: the first stands.
            if !seen.insert((isin.clone(), day)) {
                parsed.skipped += 1;
                continue;
            }
            parsed.closes.push(Close {
                day,
                isin,
                symbol: name.clone(),
                close: nav,
                high: None,
                source: Source::Amfi,
            });
        }
    }
    Ok(parsed)
}
