//! The built-in engine: reads a question, works out the answer from the
//! portfolio service's figures, and never makes a number up; when it cannot
//! answer it says so and suggests what it can.

mod answer;
pub mod intent;
pub mod money;
pub mod names;
pub mod period;
pub mod reply;

pub use answer::SUGGESTIONS;
pub use intent::{Intent, understand};
pub use reply::{Answer, Data, Widget};

use crate::portfolio::{HoldingInfo, PositionInfo, Report, Sale, Slice, Summary, TradeLine};
use intent::By;

/// What an answer may draw on.
#[derive(Debug)]
pub struct Facts {
    pub summary: Summary,
    pub holdings: Vec<HoldingInfo>,
    pub sales: Vec<Sale>,
    by_stock: Vec<Slice>,
    by_sector: Vec<Slice>,
    by_asset_class: Vec<Slice>,
    /// Filled for questions about trades: those the question selects.
    pub trades: Vec<TradeLine>,
    /// Filled for questions about today's positions.
    pub positions: Vec<PositionInfo>,
}

impl Facts {
    pub fn new(report: Report) -> Self {
        Self {
            summary: report.summary,
            holdings: report.holdings,
            sales: report.sales,
            by_stock: report.by_stock,
            by_sector: report.by_sector,
            by_asset_class: report.by_asset_class,
            trades: Vec::new(),
            positions: Vec::new(),
        }
    }

    fn allocation(&self, by: By) -> &[Slice] {
        match by {
            By::Stock => &self.by_stock,
            By::Sector => &self.by_sector,
            By::AssetClass => &self.by_asset_class,
        }
    }

    /// The user's securities, held or sold, for recognising names.
    pub fn own(&self) -> Vec<(String, String)> {
        let mut own: Vec<(String, String)> = self
            .holdings
            .iter()
            .map(|h| (h.symbol.clone(), h.isin.clone()))
            .collect();
        for s in &self.sales {
            if !own.iter().any(|(symbol, _)| *symbol == s.symbol) {
                own.push((s.symbol.clone(), s.isin.clone()));
            }
        }
        own
    }
}

/// The answer to `intent` from `facts`.
pub fn answer(intent: &Intent, facts: &Facts) -> Answer {
    answer::answer(intent, facts)
}
