//! What went wrong talking to a payment provider, and how each failure
//! reaches the caller: unreachable or failing providers are 503
//! `unavailable` (try again), a refusal of our request is 500 `internal`
//! (a setting is wrong) with the provider's reason kept for the logs.

use platform::ApiError;
use serde::de::DeserializeOwned;
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    #[error("{0} cannot be reached: {1}")]
    Unreachable(&'static str, String),
    #[error("{0} is failing ({1})")]
    Failing(&'static str, u16),
    #[error("{0} refused the request ({1}): {2}")]
    Refused(&'static str, u16, String),
    #[error("the provider's answer cannot be read: {0}")]
    Malformed(String),
}

impl ProviderError {
    /// Reads a provider's JSON answer as `T`, or says what failed;
    /// `reason` picks the provider's own words out of an error body.
    pub(super) async fn read<T: DeserializeOwned>(
        provider: &'static str,
        sent: reqwest::Result<reqwest::Response>,
        reason: impl Fn(&Value) -> Option<String>,
    ) -> Result<T, Self> {
        // reqwest's errors name the URL, never the headers that carry the keys.
        let res = sent.map_err(|e| Self::Unreachable(provider, e.without_url().to_string()))?;
        let status = res.status().as_u16();
        let bytes = res
            .bytes()
            .await
            .map_err(|e| Self::Unreachable(provider, e.without_url().to_string()))?;
        if status == 429 || status >= 500 {
            return Err(Self::Failing(provider, status));
        }
        if status >= 400 {
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let why: String = reason(&body)
                .unwrap_or_else(|| "no reason given".into())
                .chars()
                .take(300)
                .collect();
            return Err(Self::Refused(provider, status, why));
        }
        serde_json::from_slice(&bytes).map_err(|e| Self::Malformed(e.to_string()))
    }
}

impl From<ProviderError> for ApiError {
    fn from(err: ProviderError) -> Self {
        match &err {
            ProviderError::Unreachable(name, _) | ProviderError::Failing(name, _) => {
                tracing::warn!(error = %err, "payment provider unavailable");
                ApiError::unavailable(format!("{name} is not answering; try again shortly"))
            }
            ProviderError::Refused(..) | ProviderError::Malformed(_) => ApiError::internal(err),
        }
    }
}
