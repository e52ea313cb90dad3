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

/// Someone deleted their account. Published in the transaction that deleted
/// auth's rows; every service deletes what it holds about the user, exactly
/// once (each subscription keeps a dedupe record in its own database).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserDeleted {
    pub user_id: String,
    /// The username they had: a profile redirect or a mention may name it.
    pub username: String,
    pub deleted_at: chrono::DateTime<chrono::Utc>,
    /// The request that deleted it, for the audit log.
    pub request_id: Option<String>,
}

pub static USER_DELETED: TopicDecl<UserDeleted> = TopicDecl::exactly_once("user-deleted");

/// A user's Kite session ended (Kite ends them all at 06:00 IST) and their
/// link now needs a new login. Published by the morning sweep in the
/// transaction that marked it; social tells the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ZerodhaReauthRequired {
    pub user_id: String,
    pub at: chrono::DateTime<chrono::Utc>,
}

pub static ZERODHA_REAUTH_REQUIRED: TopicDecl<ZerodhaReauthRequired> =
    TopicDecl::exactly_once("zerodha-reauth-required");
