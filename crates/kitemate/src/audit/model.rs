//! Audit entries as they are written and as administrators and users read them.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

/// Where a request came from, for the entries it causes.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub request_id: Option<String>,
    pub ip: Option<String>,
}

impl From<&platform::observe::RequestInfo> for Origin {
    fn from(info: &platform::observe::RequestInfo) -> Self {
        Self {
            request_id: Some(info.request_id.clone()),
            ip: info.ip.map(|ip| ip.to_string()),
        }
    }
}

/// An entry to write.
#[derive(Debug, Clone)]
pub struct Record {
    /// Whose account it concerns.
    pub user_id: Option<String>,
    /// `user`, `admin:<id>`, `support`, `razorpay`, `stripe`, `system`.
    pub actor: String,
    /// `subscription.charged`, `tier.changed`, `zerodha.connected`, …
    pub action: &'static str,
    /// What an auditor needs to know, never a secret, never a body.
    pub detail: Value,
    pub origin: Origin,
    /// Set by handlers that may run twice: the entry is written once.
    pub key: Option<String>,
}

impl Record {
    /// The user acting on their own account.
    pub fn by_user(user_id: &str, action: &'static str, detail: Value, origin: Origin) -> Self {
        Self {
            user_id: Some(user_id.to_string()),
            actor: "user".into(),
            action,
            detail,
            origin,
            key: None,
        }
    }
}

/// An entry as it reads back.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    pub id: String,
    pub at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub detail: Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
}

/// A page of entries, newest first.
#[derive(Debug, Clone, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
