//! What an answer carries besides its text: the table or series behind it
//! and a widget that would show it.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Text,
    /// Integer paise.
    Money,
    /// A decimal string, in percent.
    Percent,
    /// A decimal string.
    Number,
    /// `YYYY-MM-DD`.
    Date,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Column {
    pub key: String,
    pub label: String,
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataKind {
    /// One row of figures.
    Figure,
    /// Rows of things (holdings, trades, slices).
    Table,
    /// Points in time order, for a chart.
    Series,
}

/// The structured result an answer is worked out from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Data {
    pub kind: DataKind,
    pub columns: Vec<Column>,
    /// One object per row, keyed by the columns' keys: at most 500.
    #[schema(value_type = Vec<Object>, max_items = 500)]
    pub rows: Vec<Map<String, Value>>,
    /// Rows the answer covers, when more than the 500 shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_rows: Option<usize>,
}

/// The most rows an answer's data carries (the text sums them all).
pub const MAX_ROWS: usize = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WidgetKind {
    Metric,
    Table,
    Pie,
    Bar,
}

/// A widget that shows this answer and stays current: `query` is asked
/// again whenever it is drawn.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Widget {
    pub kind: WidgetKind,
    pub title: String,
    pub query: String,
}

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

impl Data {
    pub fn new(kind: DataKind, columns: &[(&str, &str, Format)]) -> Self {
        Self {
            kind,
            columns: columns
                .iter()
                .map(|(key, label, format)| Column {
                    key: (*key).into(),
                    label: (*label).into(),
                    format: *format,
                })
                .collect(),
            rows: Vec::new(),
            total_rows: None,
        }
    }

    /// Adds a row from values in the columns' order.
    pub fn row(mut self, values: Vec<Value>) -> Self {
        self.push(values);
        self
    }

    pub fn push(&mut self, values: Vec<Value>) {
        if self.rows.len() >= MAX_ROWS {
            self.total_rows = Some(self.total_rows.unwrap_or(MAX_ROWS) + 1);
            return;
        }
        let row = self
            .columns
            .iter()
            .map(|c| c.key.clone())
            .zip(values)
            .collect();
        self.rows.push(row);
    }
}

impl Widget {
    pub fn new(kind: WidgetKind, title: &str, query: &str) -> Option<Self> {
        Some(Self {
            kind,
            title: title.into(),
            query: query.into(),
        })
    }
}
