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
