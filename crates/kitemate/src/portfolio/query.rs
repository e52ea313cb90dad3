//! Typed questions to the portfolio ([`Source`]) and the data they answer
//! with ([`Data`]): what a widget stores and draws, and what chat's answers
//! carry. Plain types; [`super::tables`] works the data out.

use chrono::NaiveDate;
use platform::ApiError;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::model::{AllocationBy, HoldingSort, Order, Paise};

/// How a column's values are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    Text,
    /// Integer paise.
    Money,
    /// A decimal string, in percent.
    Percent,
    /// A decimal string or a count.
    Number,
    /// A number of shares or units: hidden, like money, from other viewers.
    Quantity,
    /// `YYYY-MM-DD`.
    Date,
}

impl Format {
    /// Money and quantities: what other viewers of a shared widget with
    /// hidden amounts never see.
    pub fn is_amount(self) -> bool {
        matches!(self, Self::Money | Self::Quantity)
    }
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

/// The structured result an answer or a widget is worked out from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
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

/// The most rows data carries (an answer's text sums them all).
pub const MAX_ROWS: usize = 500;

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

    /// The data without any amount of money or quantity: columns and values
    /// both go, so no byte of them reaches another viewer.
    pub fn without_amounts(mut self) -> Self {
        let hidden: Vec<String> = self
            .columns
            .iter()
            .filter(|c| c.format.is_amount())
            .map(|c| c.key.clone())
            .collect();
        self.columns.retain(|c| !c.format.is_amount());
        for row in &mut self.rows {
            for key in &hidden {
                row.remove(key);
            }
        }
        self
    }
}

/// A headline figure of the whole portfolio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Figure {
    Value,
    Invested,
    Unrealized,
    UnrealizedPercent,
    Realized,
    DayChange,
    Xirr,
    Holdings,
}

/// Gainers (up the most) or losers (down the most).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Direction {
    Gainers,
    Losers,
}

/// What movers are ranked by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Measure {
    Percent,
    Amount,
}

/// How far back a value history reaches, from today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum Range {
    #[serde(rename = "1m")]
    OneMonth,
    #[serde(rename = "3m")]
    ThreeMonths,
    #[serde(rename = "6m")]
    SixMonths,
    #[serde(rename = "1y")]
    OneYear,
    #[serde(rename = "3y")]
    ThreeYears,
    #[serde(rename = "5y")]
    FiveYears,
    #[serde(rename = "max")]
    Max,
}

impl Range {
    /// The first day the range covers, ending `today`.
    pub fn start(self, today: NaiveDate) -> NaiveDate {
        let months = match self {
            Self::OneMonth => 1,
            Self::ThreeMonths => 3,
            Self::SixMonths => 6,
            Self::OneYear => 12,
            Self::ThreeYears => 36,
            Self::FiveYears => 60,
            Self::Max => return NaiveDate::MIN,
        };
        today
            .checked_sub_months(chrono::Months::new(months))
            .unwrap_or(NaiveDate::MIN)
    }
}

/// The headline figures named in `figures`, one row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SummarySource {
    /// 1 to 8 distinct figures, in the order shown.
    #[schema(min_items = 1, max_items = 8)]
    pub figures: Vec<Figure>,
}

/// Holdings, sorted, optionally the top N and only those worth more or less
/// than an amount.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HoldingsSource {
    #[serde(default)]
    pub sort: HoldingSort,
    /// Largest first unless sorted by symbol.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<Order>,
    /// At most this many (1 to 500).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub top: Option<u16>,
    /// Only holdings worth more than this (value, or invested when unpriced).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub min_worth_paise: Option<Paise>,
    /// Only holdings worth less than this.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 0)]
    pub max_worth_paise: Option<Paise>,
}

/// How the portfolio divides, largest first; past `top`, the rest are one
/// slice named "Others".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AllocationSource {
    pub by: AllocationBy,
    /// 1 to 50 slices before "Others"; all of them when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 50)]
    pub top: Option<u16>,
}

/// The holdings up (or down) the most.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct MoversSource {
    pub direction: Direction,
    pub measure: Measure,
    /// 1 to 50.
    #[schema(minimum = 1, maximum = 50)]
    pub n: u16,
}

/// One holding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PositionSource {
    /// Its trading symbol, upper case.
    #[schema(pattern = "^[A-Z0-9&._-]{1,40}$")]
    pub symbol: String,
}

/// Realized P&L, split short/long term: one financial year, all of them, or
/// a row per year.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RealizedSource {
    /// `2024-25`; every year when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub fy: Option<String>,
    /// A row per financial year instead of one total.
    #[serde(default)]
    pub by_year: bool,
}

/// XIRR of the portfolio, of one holding, or of every holding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct XirrSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z0-9&._-]{1,40}$")]
    pub symbol: Option<String>,
    /// A row per holding.
    #[serde(default)]
    pub per_holding: bool,
}

/// Trades from `from` to `to` (either open) of one symbol or all, oldest
/// first: the most recent `limit` of them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TradesSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub from: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = Date)]
    pub to: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^[A-Z0-9&._-]{1,40}$")]
    pub symbol: Option<String>,
    /// 1 to 500 (the most recent of the period); 500 when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(minimum = 1, maximum = 500)]
    pub limit: Option<u16>,
}

/// The portfolio's value per recorded day over a range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct HistorySource {
    pub range: Range,
}

/// The share of the portfolio in its `top` largest holdings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ConcentrationSource {
    /// 1 to 50.
    #[schema(minimum = 1, maximum = 50)]
    pub top: u16,
}

/// A typed question to the portfolio: what a widget shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Source {
    Summary(SummarySource),
    Holdings(HoldingsSource),
    Allocation(AllocationSource),
    Movers(MoversSource),
    Position(PositionSource),
    Realized(RealizedSource),
    Xirr(XirrSource),
    Trades(TradesSource),
    History(HistorySource),
    Concentration(ConcentrationSource),
}

fn within(field: &str, value: Option<u16>, max: u16) -> Result<(), ApiError> {
    match value {
        Some(n) if n == 0 || n > max => Err(ApiError::invalid_field(
            field,
            format!("must be 1 to {max}"),
        )),
        _ => Ok(()),
    }
}

fn symbol(field: &str, value: Option<&str>) -> Result<(), ApiError> {
    match value {
        Some(s)
            if s.is_empty()
                || s.len() > 40
                || !s.bytes().all(|b| {
                    b.is_ascii_uppercase() || b.is_ascii_digit() || b"&._-".contains(&b)
                }) =>
        {
            Err(ApiError::invalid_field(
                field,
                "must be an upper-case trading symbol of 1 to 40 of A-Z 0-9 & . _ -",
            ))
        }
        _ => Ok(()),
    }
}

impl Source {
    /// The one stock it concerns, when it names one.
    pub fn symbol(&self) -> Option<&str> {
        match self {
            Self::Position(p) => Some(&p.symbol),
            Self::Xirr(x) => x.symbol.as_deref(),
            Self::Trades(t) => t.symbol.as_deref(),
            _ => None,
        }
    }

    /// The source with its rupee bounds left out: what a fork copies of a
    /// widget whose owner hides amounts.
    pub fn without_amounts(&self) -> Self {
        match self {
            Self::Holdings(h) => Self::Holdings(HoldingsSource {
                min_worth_paise: None,
                max_worth_paise: None,
                ..h.clone()
            }),
            other => other.clone(),
        }
    }

    /// The name of its `type`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Summary(_) => "summary",
            Self::Holdings(_) => "holdings",
            Self::Allocation(_) => "allocation",
            Self::Movers(_) => "movers",
            Self::Position(_) => "position",
            Self::Realized(_) => "realized",
            Self::Xirr(_) => "xirr",
            Self::Trades(_) => "trades",
            Self::History(_) => "history",
            Self::Concentration(_) => "concentration",
        }
    }

    /// The rules the schema states, checked; `at` prefixes field names
    /// (`source`).
    pub fn check(&self, at: &str) -> Result<(), ApiError> {
        let field = |name: &str| format!("{at}.{name}");
        match self {
            Self::Summary(s) => {
                if s.figures.is_empty() || s.figures.len() > 8 {
                    return Err(ApiError::invalid_field(
                        &field("figures"),
                        "must name 1 to 8 figures",
                    ));
                }
                if s.figures
                    .iter()
                    .enumerate()
                    .any(|(i, f)| s.figures[..i].contains(f))
                {
                    return Err(ApiError::invalid_field(
                        &field("figures"),
                        "must not name a figure twice",
                    ));
                }
                Ok(())
            }
            Self::Holdings(h) => {
                within(&field("top"), h.top, 500)?;
                for (name, bound) in [
                    ("minWorthPaise", h.min_worth_paise),
                    ("maxWorthPaise", h.max_worth_paise),
                ] {
                    if bound.is_some_and(|p| p < Paise::ZERO) {
                        return Err(ApiError::invalid_field(
                            &field(name),
                            "must not be negative",
                        ));
                    }
                }
                if let (Some(min), Some(max)) = (h.min_worth_paise, h.max_worth_paise)
                    && min >= max
                {
                    return Err(ApiError::invalid_field(
                        &field("maxWorthPaise"),
                        "must be more than minWorthPaise",
                    ));
                }
                Ok(())
            }
            Self::Allocation(a) => within(&field("top"), a.top, 50),
            Self::Movers(m) => within(&field("n"), Some(m.n), 50),
            Self::Position(p) => symbol(&field("symbol"), Some(&p.symbol)),
            Self::Realized(r) => {
                if let Some(fy) = &r.fy
                    && fy_start(fy).is_none()
                {
                    return Err(ApiError::invalid_field(
                        &field("fy"),
                        "must be a financial year like 2024-25",
                    ));
                }
                if r.fy.is_some() && r.by_year {
                    return Err(ApiError::invalid_field(
                        &field("byYear"),
                        "cannot be true for one financial year",
                    ));
                }
                Ok(())
            }
            Self::Xirr(x) => {
                symbol(&field("symbol"), x.symbol.as_deref())?;
                if x.symbol.is_some() && x.per_holding {
                    return Err(ApiError::invalid_field(
                        &field("perHolding"),
                        "cannot be true for one symbol",
                    ));
                }
                Ok(())
            }
            Self::Trades(t) => {
                symbol(&field("symbol"), t.symbol.as_deref())?;
                within(&field("limit"), t.limit, 500)?;
                if let (Some(from), Some(to)) = (t.from, t.to)
                    && from > to
                {
                    return Err(ApiError::invalid_field(
                        &field("to"),
                        "must not be before from",
                    ));
                }
                Ok(())
            }
            Self::History(_) => Ok(()),
            Self::Concentration(c) => within(&field("top"), Some(c.top), 50),
        }
    }
}

/// `2024-25` → 2024, when the two years follow each other.
pub fn fy_start(fy: &str) -> Option<i32> {
    let (start, end) = fy.split_once('-')?;
    if start.len() != 4 || end.len() != 2 {
        return None;
    }
    let start: i32 = start.parse().ok()?;
    let end: i32 = end.parse().ok()?;
    (end == (start + 1) % 100 && (1990..=2100).contains(&start)).then_some(start)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Result<Source, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn sources_read_as_their_tagged_json() {
        let s = parse(r#"{"type":"allocation","by":"sector","top":5}"#).unwrap();
        assert_eq!(
            s,
            Source::Allocation(AllocationSource {
                by: AllocationBy::Sector,
                top: Some(5)
            })
        );
        assert!(parse(r#"{"type":"allocation","by":"sector","extra":1}"#).is_err());
        assert!(parse(r#"{"type":"nope"}"#).is_err());
        let back = serde_json::to_string(&s).unwrap();
        assert_eq!(back, r#"{"type":"allocation","by":"sector","top":5}"#);
    }

    #[test]
    fn checks_name_the_field() {
        let err = parse(r#"{"type":"movers","direction":"gainers","measure":"percent","n":0}"#)
            .unwrap()
            .check("source")
            .unwrap_err();
        assert!(err.message.contains("source.n"), "{}", err.message);
        let err = parse(r#"{"type":"realized","fy":"2024-26"}"#)
            .unwrap()
            .check("source")
            .unwrap_err();
        assert!(err.message.contains("source.fy"), "{}", err.message);
        let err = parse(r#"{"type":"summary","figures":["value","value"]}"#)
            .unwrap()
            .check("source")
            .unwrap_err();
        assert!(err.message.contains("twice"), "{}", err.message);
        assert!(
            parse(r#"{"type":"position","symbol":"M&M"}"#)
                .unwrap()
                .check("source")
                .is_ok()
        );
    }

    #[test]
    fn financial_years_are_consecutive() {
        assert_eq!(fy_start("2024-25"), Some(2024));
        assert_eq!(fy_start("1999-00"), Some(1999));
        assert_eq!(fy_start("2024-26"), None);
        assert_eq!(fy_start("24-25"), None);
    }

    #[test]
    fn amounts_leave_columns_and_rows() {
        let data = Data::new(
            DataKind::Table,
            &[
                ("symbol", "Symbol", Format::Text),
                ("quantity", "Quantity", Format::Quantity),
                ("valuePaise", "Value", Format::Money),
                ("weightPercent", "Weight", Format::Percent),
            ],
        )
        .row(vec![
            serde_json::json!("INFY"),
            serde_json::json!("10"),
            serde_json::json!(123_456),
            serde_json::json!("12.5"),
        ])
        .without_amounts();
        assert_eq!(data.columns.len(), 2);
        let text = serde_json::to_string(&data).unwrap();
        assert!(
            !text.contains("123456") && !text.contains("\"10\""),
            "{text}"
        );
    }
}
