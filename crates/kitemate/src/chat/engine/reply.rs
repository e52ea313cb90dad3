//! What an answer carries besides its text: the table or series behind it
//! (the portfolio's [`Data`]) and a widget that would show it (a widget
//! [`Widget`] draft: kind, title and the typed source, ready for `POST /widgets`).

pub use crate::portfolio::query::{Column, Data, DataKind, Format, MAX_ROWS};
pub use crate::widgets::model::{WidgetDraft as Widget, WidgetKind};

use super::money::{inr, percent, signed_inr};
use crate::portfolio::{HoldingInfo, Paise};

/// A reply of the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    /// Short markdown.
    pub text: String,
    pub data: Option<Data>,
    pub widget: Option<Widget>,
    /// False when the engine could not answer (and says what it can).
    pub answered: bool,
}

/// What the engine can answer, offered when it cannot.
pub const SUGGESTIONS: &[&str] = &[
    "What is my portfolio worth?",
    "How much have I made overall?",
    "How did my portfolio do today?",
    "Show my holdings by value",
    "Top 5 gainers by %",
    "How many INFY do I have?",
    "Allocation by sector",
    "Realized P&L for FY 2024-25",
    "What is my XIRR?",
    "What did I buy last month?",
    "INFY vs TCS",
    "Today's positions",
];

/// A reply that could not answer: why, and what could be asked instead.
pub fn fallback(text: &str) -> Answer {
    let mut out = format!("{text}\n\nYou could ask:\n");
    for s in SUGGESTIONS.iter().take(6) {
        out.push_str(&format!("- {s}\n"));
    }
    Answer {
        text: out,
        data: None,
        widget: None,
        answered: false,
    }
}

/// A reply that answers, with its figures and a widget when one fits.
pub fn answered(text: String, data: Data, widget: Option<Widget>) -> Answer {
    Answer {
        text,
        data: Some(data),
        widget,
        answered: true,
    }
}

/// `Value … (P&L …)` of one holding, for comparisons and positions.
pub fn describe(h: &HoldingInfo) -> String {
    let mut line = format!("**{}**: {} shares", h.symbol, h.quantity);
    if let Some(avg) = &h.average_price {
        line.push_str(&format!(
            " at an average of {}",
            inr(Paise::from_rupees(*avg))
        ));
    }
    line.push_str(&format!(", invested {}", inr(h.invested_paise)));
    if let (Some(value), Some(pnl)) = (h.value_paise, h.unrealized_paise) {
        line.push_str(&format!(", worth {} ({}", inr(value), signed_inr(pnl)));
        if let Some(p) = &h.unrealized_percent {
            line.push_str(&format!(", {}", percent(*p)));
        }
        line.push(')');
    }
    if let Some(w) = &h.weight_percent {
        line.push_str(&format!("; {} of the portfolio", percent(*w)));
    }
    line
}
