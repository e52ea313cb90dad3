//! A client of Stripe's API for subscriptions: Checkout Sessions in
//! subscription mode (idempotent per attempt), subscriptions (retrieve,
//! cancel at period end and take that back) and Customer Portal sessions.
//! Requests are form-encoded with bracketed keys; the API version is pinned.

use std::sync::Arc;
use std::time::Duration;

use platform::secrets::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use serde_json::Value;

use super::provider_error::ProviderError;
use super::razorpay::path_part;

#[derive(Debug)]
pub struct StripeKeys {
    pub secret_key: SecretString,
    /// Newest first.
    pub webhook_secrets: Vec<SecretString>,
}

#[derive(Clone)]
pub struct Stripe {
    root: String,
    version: String,
    keys: Arc<StripeKeys>,
    http: reqwest::Client,
}

impl std::fmt::Debug for Stripe {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Stripe")
            .field("root", &self.root)
            .finish_non_exhaustive()
    }
}

/// A Checkout Session as made.
#[derive(Debug, Clone, Deserialize)]
pub struct Session {
    pub id: String,
    pub url: Option<String>,
}

/// The fields of a Subscription KiteMate uses.
#[derive(Debug, Clone, Deserialize)]
pub struct StripeSubscription {
    pub id: String,
    pub status: String,
    #[serde(default)]
    pub customer: Option<String>,
    #[serde(default)]
    pub cancel_at_period_end: bool,
    /// The whole object, for the period ends on its items.
    #[serde(flatten)]
    pub rest: serde_json::Map<String, Value>,
}

impl StripeSubscription {
    /// The latest period end of its items (2025-03-31.basil and later), or
    /// the subscription's own (earlier versions).
    pub fn period_end(&self) -> Option<i64> {
        period_end_of(&Value::Object(self.rest.clone()))
    }
}

/// The latest `current_period_end` of a subscription object's items, or
/// its own for API versions before items carried it.
pub fn period_end_of(subscription: &Value) -> Option<i64> {
    let items = subscription["items"]["data"].as_array();
    items
        .into_iter()
        .flatten()
        .filter_map(|item| item["current_period_end"].as_i64())
        .max()
        .or_else(|| subscription["current_period_end"].as_i64())
}

#[derive(Debug, Clone, Deserialize)]
struct PortalSession {
    url: String,
}

/// What a Checkout Session is made with.
#[derive(Debug)]
pub struct CheckoutRequest<'a> {
    pub price_id: &'a str,
    pub user_id: &'a str,
    pub email: &'a str,
    pub customer: Option<&'a str>,
    pub success_url: &'a str,
    pub cancel_url: &'a str,
    /// One per attempt: a retry of the same attempt gets the same session.
    pub idempotency_key: &'a str,
}

impl Stripe {
    pub fn new(root: &str, version: &str, keys: StripeKeys) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .connect_timeout(Duration::from_secs(5))
            .build()?;
        Ok(Self {
            root: root.trim_end_matches('/').to_string(),
            version: version.to_string(),
            keys: Arc::new(keys),
            http,
        })
    }

    pub fn webhook_secrets(&self) -> &[SecretString] {
        &self.keys.webhook_secrets
    }

    pub async fn create_checkout(
        &self,
        req: &CheckoutRequest<'_>,
    ) -> Result<Session, ProviderError> {
        let mut form: Vec<(&str, &str)> = vec![
            ("mode", "subscription"),
            ("line_items[0][price]", req.price_id),
            ("line_items[0][quantity]", "1"),
            ("success_url", req.success_url),
            ("cancel_url", req.cancel_url),
            ("client_reference_id", req.user_id),
            ("metadata[user_id]", req.user_id),
            ("subscription_data[metadata][user_id]", req.user_id),
        ];
        match req.customer {
            Some(customer) => form.push(("customer", customer)),
            None => form.push(("customer_email", req.email)),
        }
        let builder = self
            .http
            .post(self.url("/v1/checkout/sessions"))
            .header("Idempotency-Key", req.idempotency_key)
            .form(&form);
        self.send(builder).await
    }

    pub async fn subscription(&self, id: &str) -> Result<StripeSubscription, ProviderError> {
        let url = self.url(&format!("/v1/subscriptions/{}", path_part(id)?));
        self.send(self.http.get(url)).await
    }

    /// Sets whether the subscription ends with its current period.
    pub async fn cancel_at_period_end(
        &self,
        id: &str,
        cancel: bool,
    ) -> Result<StripeSubscription, ProviderError> {
        let url = self.url(&format!("/v1/subscriptions/{}", path_part(id)?));
        let value = if cancel { "true" } else { "false" };
        self.send(self.http.post(url).form(&[("cancel_at_period_end", value)]))
            .await
    }

    /// The invoice a PaymentIntent paid: from API version `2025-03-31.basil`
    /// a charge and a dispute name their PaymentIntent, no longer the invoice.
    pub async fn invoice_of_payment_intent(
        &self,
        payment_intent: &str,
    ) -> Result<Option<String>, ProviderError> {
        let url = self.url("/v1/invoice_payments");
        let query = [
            ("payment[type]", "payment_intent"),
            ("payment[payment_intent]", payment_intent),
            ("limit", "1"),
        ];
        let list: Value = self.send(self.http.get(url).query(&query)).await?;
        Ok(list["data"][0]["invoice"]
            .as_str()
            .filter(|id| !id.is_empty())
            .map(str::to_string))
    }

    /// Ends the subscription now.
    pub async fn cancel_now(&self, id: &str) -> Result<StripeSubscription, ProviderError> {
        let url = self.url(&format!("/v1/subscriptions/{}", path_part(id)?));
        self.send(self.http.delete(url)).await
    }

    /// A Customer Portal page for `customer`, returning to `return_url`.
    pub async fn portal(&self, customer: &str, return_url: &str) -> Result<String, ProviderError> {
        let builder = self
            .http
            .post(self.url("/v1/billing_portal/sessions"))
            .form(&[("customer", customer), ("return_url", return_url)]);
        let session: PortalSession = self.send(builder).await?;
        Ok(session.url)
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.root)
    }

    async fn send<T: serde::de::DeserializeOwned>(
        &self,
        req: reqwest::RequestBuilder,
    ) -> Result<T, ProviderError> {
        let req = req
            .bearer_auth(self.keys.secret_key.expose_secret())
            .header("Stripe-Version", &self.version);
        ProviderError::read("Stripe", req.send().await, |v| {
            v["error"]["message"].as_str().map(str::to_string)
        })
        .await
    }
}
