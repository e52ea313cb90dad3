//! What an answer carries besides its text: the table or series behind it
//! (the portfolio's [`Data`]) and a widget that would show it (a widget
//! [`Widget`] draft: kind, title and the typed source, ready for `POST /widgets`).

pub use crate::portfolio::query::{Column, Data, DataKind, Format, MAX_ROWS};
pub use crate::widgets::model::{WidgetDraft as Widget, WidgetKind};

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
