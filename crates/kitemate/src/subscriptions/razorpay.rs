//! A client of Razorpay's Subscriptions API (create, fetch, cancel), with
//! the keys that also check its webhook and Checkout signatures. The key
//! secret goes only into the Basic-auth header; no error names it.

use std::sync::Arc;
use std::time::Duration;

use platform::secrets::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::{Value, json};

use super::provider_error::ProviderError;

#[derive(Debug)]
pub struct RazorpayKeys {
    pub key_id: String,
    pub key_secret: SecretString,
    /// Newest first.
    pub webhook_secrets: Vec<SecretString>,
}

#[derive(Clone)]
pub struct Razorpay {
    root: String,
    keys: Arc<RazorpayKeys>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Razorpay {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Razorpay")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// The fields of a subscription entity KiteMate uses (times in Unix seconds).
#[derive(Debug, Clone, Deserialize)]
pub struct RzpSubscription {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub current_end: Option<i64>,
    #[serde(default)]
    pub charge_at: Option<i64>,
    #[serde(default)]
    pub short_url: Option<String>,
    #[serde(default)]
    pub notes: Value,
}

impl Razorpay {
    pub fn new(root: &str, keys: RazorpayKeys) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            root: root.trim_end_matches('/').to_string(),
            keys: Arc::new(keys),
            http,
        })
    }

    pub fn key_id(&self) -> &str {
        &self.keys.key_id
    }

    pub fn key_secret(&self) -> &SecretString {
        &self.keys.key_secret
    }

    pub fn webhook_secrets(&self) -> &[SecretString] {
        &self.keys.webhook_secrets
    }

    /// Makes a subscription to `plan_id` for `user_id` (in `notes`), which
    /// the customer must authorise before `expire_by`.
    pub async fn create_subscription(
        &self,
        plan_id: &str,
        total_count: u32,
        user_id: &str,
        expire_by: i64,
    ) -> Result<RzpSubscription, ProviderError> {
        let body = json!({
            "plan_id": plan_id,
            "total_count": total_count,
            "quantity": 1,
            "customer_notify": 1,
            "expire_by": expire_by,
            "notes": { "user_id": user_id },
        });
        self.send(self.http.post(self.url("/subscriptions")).json(&body))
            .await
    }

    pub async fn subscription(&self, id: &str) -> Result<RzpSubscription, ProviderError> {
        self.send(
            self.http
                .get(self.url(&format!("/subscriptions/{}", path_part(id)?))),
        )
        .await
    }

    /// Cancels at the end of the paid cycle (`true`) or now.
    pub async fn cancel(
        &self,
        id: &str,
        at_cycle_end: bool,
    ) -> Result<RzpSubscription, ProviderError> {
        let url = self.url(&format!("/subscriptions/{}/cancel", path_part(id)?));
        self.send(
            self.http
                .post(url)
                .json(&json!({ "cancel_at_cycle_end": at_cycle_end })),
        )
        .await
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> Result<RzpSubscription, ProviderError> {
        let req = req.basic_auth(
            &self.keys.key_id,
            Some(self.keys.key_secret.expose_secret()),
        );
        ProviderError::read("Razorpay", req.send().await, |v| {
            v["error"]["description"].as_str().map(str::to_string)
        })
        .await
    }
}

/// An id from a provider or a stored row, safe to put in a URL path.
pub(super) fn path_part(id: &str) -> Result<&str, ProviderError> {
    let ok = !id.is_empty()
        && id.len() <= 100
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(ProviderError::Malformed(
            "an id with characters no provider uses".into(),
        ))
    }
}
