//! Profiles as anyone sees them: no email, no amounts; plain types.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::widgets::model::PublicWidgetPage;

pub const MAX_DISPLAY_NAME: usize = 60;
pub const MAX_BIO: usize = 300;
pub const MAX_LINKS: usize = 5;
pub const MAX_LINK: usize = 200;

/// What a profile counts.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Counts {
    pub public_widgets: i64,
    pub followers: i64,
    pub following: i64,
}

/// A public profile.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub username: String,
    pub display_name: String,
    pub bio: String,
    pub links: Vec<String>,
    /// Hidden from everyone but its owner.
    pub private: bool,
    pub joined_at: DateTime<Utc>,
    pub counts: Counts,
    /// Whether the signed-in viewer follows them (absent when signed out).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub followed_by_you: Option<bool>,
    /// Their public widgets, newest first, a page at a time.
    pub widgets: PublicWidgetPage,
}
