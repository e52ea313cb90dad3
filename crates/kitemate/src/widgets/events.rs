//! Events the widgets service publishes, each in the transaction of the
//! change it tells of; both are exactly-once, so a subscriber's effect
//! (a notification) happens once per event.

use platform::pubsub::TopicDecl;
use serde::{Deserialize, Serialize};

/// Someone forked a widget.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetForked {
    /// The original.
    pub widget_id: String,
    pub original_user_id: String,
    pub forking_user_id: String,
    /// The new widget.
    pub fork_id: String,
}

pub static WIDGET_FORKS: TopicDecl<WidgetForked> = TopicDecl::exactly_once("widget-forks");

/// Someone liked a widget for the first time (liking again after taking a
/// like back tells nobody anything new).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WidgetLiked {
    pub widget_id: String,
    pub owner_user_id: String,
    pub liking_user_id: String,
}

pub static WIDGET_LIKES: TopicDecl<WidgetLiked> = TopicDecl::exactly_once("widget-likes");
