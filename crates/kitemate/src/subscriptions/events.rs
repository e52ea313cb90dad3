//! Topics of the subscriptions service: `subscription-changed` (a user's
//! tier moved; auth applies it) and `payment-deliveries` (verified webhook
//! deliveries, handed from the request to their exactly-once effect).

use platform::pubsub::TopicDecl;
use serde::{Deserialize, Serialize};

use super::deliveries::Delivery;

/// A user's tier is now `tier`. `version` grows with every change of that
/// user's tier, so a late delivery of an older change is ignored.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionChanged {
    pub user_id: String,
    pub tier: String,
    pub version: i64,
    /// What moved it (`subscription.charged`, `grace ended`, `support`, …).
    pub reason: String,
}

pub static SUBSCRIPTION_CHANGED: TopicDecl<SubscriptionChanged> =
    TopicDecl::new("subscription-changed");

/// Each verified delivery once; its effect applies exactly once.
pub static PAYMENT_DELIVERIES: TopicDecl<Delivery> = TopicDecl::exactly_once("payment-deliveries");
