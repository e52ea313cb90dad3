//! What market data shows of itself: the status administrators read.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// One file loaded.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LoadInfo {
    pub id: String,
    /// `udiff-bhavcopy`, `nse-bhavcopy`, `amfi-nav` or `nse-indices`.
    pub layout: String,
    pub file_name: String,
    pub first_day: Option<NaiveDate>,
    pub last_day: Option<NaiveDate>,
    pub closes: i64,
    pub indices: i64,
    pub skipped: i64,
    pub loaded_at: DateTime<Utc>,
}

/// The newest day loaded of one feed.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FeedInfo {
    /// `nse-equity`, `bse-equity`, `nse-indices` or `amfi-nav`.
    pub feed: &'static str,
    pub last_day: Option<NaiveDate>,
}

/// What market data holds.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MarketStatus {
    pub feeds: Vec<FeedInfo>,
    /// The 20 newest files loaded, newest first.
    pub loads: Vec<LoadInfo>,
}

/// What a corporate action did to a security's shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActionKind {
    /// Each share became several (face value divided).
    Split,
    /// Several shares became one.
    Consolidation,
    /// Bonus shares allotted for shares held.
    Bonus,
    /// The company was amalgamated into another (`intoIsin`).
    Merger,
    /// Part of the company was demerged into another (`intoIsin`).
    Demerger,
    /// The ISIN (and perhaps the symbol) changed and nothing else.
    IsinChange,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Split => "split",
            Self::Consolidation => "consolidation",
            Self::Bonus => "bonus",
            Self::Merger => "merger",
            Self::Demerger => "demerger",
            Self::IsinChange => "isin_change",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Split,
            Self::Consolidation,
            Self::Bonus,
            Self::Merger,
            Self::Demerger,
            Self::IsinChange,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }

    /// Whether the action moves shares into another security.
    pub fn moves(self) -> bool {
        matches!(self, Self::Merger | Self::Demerger | Self::IsinChange)
    }
}

/// One corporate action on one security.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CorporateAction {
    pub id: String,
    /// The security's ISIN; none when the source named only its symbol.
    pub isin: Option<String>,
    pub symbol: String,
    pub kind: ActionKind,
    /// The day the shares first trade without the entitlement.
    pub ex_date: NaiveDate,
    /// Bonus shares: the day they were allotted (their acquisition date).
    pub allotted_on: Option<NaiveDate>,
    /// `ratioNew` shares (of `intoIsin` for a merger or demerger) for
    /// every `ratioOld` held.
    pub ratio_new: u32,
    pub ratio_old: u32,
    pub into_isin: Option<String>,
    pub into_symbol: Option<String>,
    /// A demerger: the percent of the parent's cost the new shares carry,
    /// as the company announced it.
    #[schema(value_type = Option<String>, example = "4.68")]
    pub cost_share_percent: Option<rust_decimal::Decimal>,
    /// `curated` (shipped with KiteMate), `nse` (a loaded NSE file) or
    /// `declared` (by the user, for their own portfolio).
    pub source: String,
    /// The source's words, or where the action is documented.
    pub note: String,
}
