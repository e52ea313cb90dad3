//! Events the portfolio service publishes.

use platform::pubsub::TopicDecl;
use serde::{Deserialize, Serialize};

/// A user's portfolio was refreshed from Kite. Published in the sync's transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortfolioSynced {
    pub user_id: String,
    /// The IST day the snapshot counts for.
    pub day: String,
    pub value_paise: i64,
}

pub static PORTFOLIO_SYNCED: TopicDecl<PortfolioSynced> = TopicDecl::new("portfolio-synced");
