//! Console and Kite exports, read into rows: tradebooks (every fill) and
//! holdings (a snapshot). Parsing is pure; storing is the service's job.

pub mod holdings;
mod table;
pub mod tradebook;

pub use holdings::HoldingRow;
pub use table::Table;
pub use tradebook::{Side, Trade};

/// What kind of export a file is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Tradebook,
    Holdings,
}

/// A line that was read but not taken, and why.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Skipped {
    pub line: usize,
    pub reason: String,
}

/// The rows a file gave, and the lines it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// Non-empty lines after the header.
    pub rows_read: usize,
    pub rows: Vec<T>,
    pub skipped: Vec<Skipped>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            rows_read: 0,
            rows: Vec::new(),
            skipped: Vec::new(),
        }
    }
}

/// Which kind `table` is, judging by its header.
pub fn detect(table: &Table) -> Option<Kind> {
    if table.header(&["tradedate", "tradetype"]).is_some() {
        Some(Kind::Tradebook)
    } else if table.header(&["instrument", "qty"]).is_some()
        || table.header(&["symbol", "quantityavailable"]).is_some()
    {
        Some(Kind::Holdings)
    } else {
        None
    }
}

#[cfg(test)]
mod tests;
