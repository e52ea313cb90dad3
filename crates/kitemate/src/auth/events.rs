//! Events the auth service publishes.

use platform::pubsub::TopicDecl;
use serde::{Deserialize, Serialize};

/// Someone created an account. Published in the signup's transaction.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSignedUp {
    pub user_id: String,
    pub username: String,
}

pub static USER_SIGNED_UP: TopicDecl<UserSignedUp> = TopicDecl::new("user-signed-up");
