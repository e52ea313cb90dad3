//! Settings of the MCP server and its authorization server (`[mcp]` in
//! kitemate.toml, `KITEMATE_MCP__*`).

use platform::config::{ConfigError, RateLimitConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct McpConfig {
    /// Minutes an access token lasts.
    pub access_token_minutes: u32,
    /// Days a refresh token lasts unused (each use gives a new one).
    pub refresh_token_days: u32,
    /// Tool calls one user may make a minute, on every plan.
    pub tool_calls_per_minute: u32,
    /// How many may come at once before the rate applies.
    pub tool_call_burst: u32,
    /// Client registrations (RFC 7591) one address may make a minute.
    pub registrations_per_minute: u32,
    /// How many may come at once before the rate applies.
    pub registration_burst: u32,
    /// Sign-in and consent forms one address may post a minute.
    pub authorize_posts_per_minute: u32,
    /// Browser origins allowed to call `/mcp` besides the public URL's own;
    /// any other `Origin` is refused with 403 (DNS rebinding).
    pub allowed_origins: Vec<String>,
    /// Host names `/mcp` answers to besides the public URL's own (and, in
    /// development, loopback); any other `Host` is refused with 403.
    pub allowed_hosts: Vec<String>,
    /// Lets client metadata documents be fetched over plain HTTP from
    /// loopback: for tests and local development only, never in production.
    pub metadata_from_loopback: bool,
}

impl Default for McpConfig {
    fn default() -> Self {
        Self {
            access_token_minutes: 60,
            refresh_token_days: 30,
            tool_calls_per_minute: 60,
            tool_call_burst: 20,
            registrations_per_minute: 2,
            registration_burst: 10,
            authorize_posts_per_minute: 20,
            allowed_origins: Vec::new(),
            allowed_hosts: Vec::new(),
            metadata_from_loopback: false,
        }
    }
}

impl McpConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("access_token_minutes", self.access_token_minutes),
            ("refresh_token_days", self.refresh_token_days),
            ("tool_calls_per_minute", self.tool_calls_per_minute),
            ("tool_call_burst", self.tool_call_burst),
            ("registrations_per_minute", self.registrations_per_minute),
            ("registration_burst", self.registration_burst),
            (
                "authorize_posts_per_minute",
                self.authorize_posts_per_minute,
            ),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "`mcp.{name}`: must be at least 1"
                )));
            }
        }
        if self.access_token_minutes > 24 * 60 {
            return Err(ConfigError::new(
                "`mcp.access_token_minutes`: at most 1440 (a day): access tokens are short-lived",
            ));
        }
        Ok(())
    }

    /// The per-user limit on tool calls; `enabled` follows `rate_limit.enabled`.
    pub fn tool_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.tool_calls_per_minute,
            burst: self.tool_call_burst,
        }
    }

    /// The per-address limit on registrations.
    pub fn registration_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.registrations_per_minute,
            burst: self.registration_burst,
        }
    }

    /// The per-address limit on the authorize page's forms.
    pub fn authorize_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.authorize_posts_per_minute,
            burst: self.authorize_posts_per_minute,
        }
    }
}
