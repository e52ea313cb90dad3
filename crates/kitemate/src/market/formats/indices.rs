//! NSE's daily closing values of its indices (`ind_close_all_DDMMYYYY.csv`).

use super::{FormatError, IndexClose, Layout, Parsed, cell, date, each_row, fail, value};

/// Index names are short plain text; anything else is not one.
const NAME_MAX: usize = 80;

pub fn closes(text: &str) -> Result<Parsed, FormatError> {
    let mut parsed = Parsed::new(Layout::NseIndices);
    let names = ["Index Name", "Index Date", "Closing Index Value"];
    each_row(text, names, |line, record, &[name_at, day_at, close_at]| {
        let name = cell(record, name_at, line, "Index Name")?;
        if name.is_empty() || name.len() > NAME_MAX || name.chars().any(char::is_control) {
            return fail(format!("line {line}: Index Name is not a name"));
        }
        let day = date(
            line,
            "Index Date",
            cell(record, day_at, line, "Index Date")?,
        )?;
        let close = cell(record, close_at, line, "Closing Index Value")?;
        match value(line, "Closing Index Value", close)? {
            Some(close) => parsed.indices.push(IndexClose {
                day,
                name: name.to_string(),
                close,
            }),
            None => parsed.skipped += 1,
        }
        Ok(())
    })?;
    Ok(parsed)
}
