//! Console and Kite exports, read into rows: tradebooks (every fill) and
//! holdings (a snapshot). Parsing is pure; storing is the service's job.

pub mod fields;
pub mod holdings;
mod table;
pub mod tradebook;

pub use table::Table;
pub use tradebook::Trade;

pub use super::model::{Kind, Skipped};

/// How many skipped lines are kept, with their reasons; past it they are
/// only counted (a file of a million bad lines must not become a
/// million-entry answer).
pub const SKIPPED_KEPT: usize = 100;

/// Lines not taken: the first [`SKIPPED_KEPT`] by line number, and how many
/// in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Skips {
    kept: Vec<Skipped>,
    total: usize,
}

impl Skips {
    pub fn push(&mut self, skipped: Skipped) {
        self.total += 1;
        self.kept.push(skipped);
        // Lines mostly come in order; trimming now and then keeps the
        // smallest line numbers at a bounded cost.
        if self.kept.len() >= 2 * SKIPPED_KEPT {
            self.trim();
        }
    }

    fn trim(&mut self) {
        self.kept.sort_by_key(|s| s.line);
        self.kept.truncate(SKIPPED_KEPT);
    }

    /// Every line skipped, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The kept lines, in line order.
    pub fn into_first(mut self) -> Vec<Skipped> {
        self.trim();
        self.kept
    }
}

impl std::ops::Deref for Skips {
    type Target = [Skipped];

    fn deref(&self) -> &[Skipped] {
        &self.kept
    }
}

/// The rows a file gave, and the lines it did not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed<T> {
    /// Non-empty lines after the header.
    pub rows_read: usize,
    pub rows: Vec<T>,
    pub skipped: Skips,
    /// Why the whole file is refused, found in a row (a number out of bounds).
    pub refused: Option<String>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            rows_read: 0,
            rows: Vec::new(),
            skipped: Skips::default(),
            refused: None,
        }
    }
}

impl<T> Parsed<T> {
    /// The rows, or why the file is refused.
    pub fn checked(self) -> Result<Self, String> {
        match self.refused {
            Some(reason) => Err(reason),
            None => Ok(self),
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
