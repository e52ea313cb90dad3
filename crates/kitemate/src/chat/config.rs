//! Settings of the chat service (`[chat]` and `[llm]` in kitemate.toml,
//! `KITEMATE_CHAT__*`, `KITEMATE_LLM__*`) and the model's secret.

use platform::config::ConfigError;
use platform::secrets::Secrets;
use serde::{Deserialize, Serialize};

use super::llm::{Llm, LlmConfig};

/// The chat model's API key, named as the issue and most tools name it.
pub const LLM_API_KEY: &str = "LLM_API_KEY";

/// Limits on questions, on every plan (`[chat]`, `KITEMATE_CHAT__*`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChatConfig {
    /// Questions one user may ask a minute, Pro included.
    pub questions_per_minute: u32,
    /// Questions one user may ask at once before the rate applies.
    pub burst: u32,
    /// Questions of one user being answered at the same time.
    pub in_flight: u32,
    /// A chat WebSocket that sends nothing for this long is closed.
    pub socket_idle_secs: u64,
}

impl Default for ChatConfig {
    fn default() -> Self {
        Self {
            questions_per_minute: 20,
            burst: 10,
            in_flight: 2,
            socket_idle_secs: 300,
        }
    }
}

/// A language model for chat: any OpenAI-compatible endpoint. With no
/// `base_url`, the built-in engine answers. Its key is the secret
/// `LLM_API_KEY`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LlmSettings {
    /// Up to `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    pub model: String,
    /// For one completion, tool calls included; past it the engine answers.
    pub timeout_ms: u64,
}

impl Default for LlmSettings {
    fn default() -> Self {
        Self {
            base_url: String::new(),
            model: String::new(),
            timeout_ms: 20_000,
        }
    }
}

impl ChatConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("questions_per_minute", u64::from(self.questions_per_minute)),
            ("burst", u64::from(self.burst)),
            ("in_flight", u64::from(self.in_flight)),
            ("socket_idle_secs", self.socket_idle_secs),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "`chat.{name}`: must be at least 1"
                )));
            }
        }
        Ok(())
    }
}

impl LlmSettings {
    /// The chat model, when `llm.base_url` is set; its key from `secrets`.
    pub fn resolve(&self, secrets: &Secrets) -> Result<Option<Llm>, ConfigError> {
        if self.base_url.is_empty() {
            return Ok(None);
        }
        if self.model.is_empty() {
            return Err(ConfigError::new(
                "`llm.model`: required when `llm.base_url` is set",
            ));
        }
        let api_key = secrets.get(LLM_API_KEY).ok_or_else(|| {
            ConfigError::new(format!(
                "`{LLM_API_KEY}`: required when `llm.base_url` is set"
            ))
        })?;
        Llm::new(LlmConfig {
            base_url: self.base_url.clone(),
            model: self.model.clone(),
            api_key,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
        })
        .map(Some)
        .map_err(|err| ConfigError::new(format!("`llm`: {err}")))
    }
}

impl ChatConfig {
    /// The per-user question limit; `enabled` follows `rate_limit.enabled`,
    /// so a load test turns every limit off at once.
    pub fn question_limit(&self, enabled: bool) -> platform::config::RateLimitConfig {
        platform::config::RateLimitConfig {
            enabled,
            per_ip_per_minute: self.questions_per_minute,
            burst: self.burst,
        }
    }
}
