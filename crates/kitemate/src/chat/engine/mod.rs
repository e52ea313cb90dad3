//! The built-in engine: reads a question, works out the answer from the
//! portfolio service's figures, and never makes a number up; when it cannot
//! answer it says so and suggests what it can.

mod answer;
mod detail;
pub mod hinglish;
pub mod intent;
pub mod kinds;
pub mod money;
pub mod names;
pub mod period;
pub mod reply;
pub mod slots;
pub mod tax;

pub use intent::{Intent, resolve};
pub use reply::SUGGESTIONS;
pub use reply::{Answer, Data, Widget};

use std::sync::Arc;

use crate::portfolio::model::Performance;
use crate::portfolio::{PositionInfo, Report, Slice, TradeInfo, TradeTally};
use intent::By;

/// What an answer may draw on.
#[derive(Debug)]
pub struct Facts {
    /// The portfolio's figures today, shared by every question until it changes.
    pub report: Arc<Report>,
    /// Filled for questions about trades: those the question selects.
    pub trades: Vec<TradeInfo>,
    /// Filled for questions about today's positions.
    pub positions: Vec<PositionInfo>,
    /// Filled for questions about returns over a period.
    pub performance: Option<Performance>,
    /// Filled for counts and dates of trades: what every matching trade
    /// adds up to (`trades` then holds the newest few).
    pub tally: Option<TradeTally>,
    /// Filled for tax questions: the year's capital gains.
    pub gains: Option<crate::portfolio::tax::CapitalGains>,
    /// Filled for which lots are long-term: the open lots.
    pub harvest: Option<crate::portfolio::tax::Harvest>,
}

impl Facts {
    pub fn new(report: Arc<Report>) -> Self {
        Self {
            report,
            trades: Vec::new(),
            positions: Vec::new(),
            performance: None,
            tally: None,
            gains: None,
            harvest: None,
        }
    }

    fn allocation(&self, by: By) -> &[Slice] {
        match by {
            By::Stock => &self.report.by_stock,
            By::Sector => &self.report.by_sector,
            By::AssetClass => &self.report.by_asset_class,
        }
    }

    /// The user's securities, held or sold, for recognising names.
    pub fn own(&self) -> Vec<(String, String)> {
        let mut own: Vec<(String, String)> = self
            .report
            .holdings
            .iter()
            .map(|h| (h.symbol.clone(), h.isin.clone()))
            .collect();
        for s in &self.report.sales {
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
