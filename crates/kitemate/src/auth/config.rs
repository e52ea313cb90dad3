//! Settings of the auth service (`[auth]` in kitemate.toml, `KITEMATE_AUTH__*`).

use platform::config::ConfigError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// How long a session lasts after login, in hours.
    pub session_ttl_hours: u32,
    /// Wrong passwords for one account before each further try must wait.
    pub account_free_failures: u32,
    /// Failed logins from one IP before each further try must wait.
    pub ip_free_failures: u32,
    /// Minutes after which past failures are forgotten.
    pub failure_window_minutes: u32,
    /// The longest wait imposed after repeated failures, in seconds.
    pub max_failure_wait_secs: u32,
    /// Where the browser goes after signing in with Zerodha, carrying a
    /// one-use `#zerodha_code=` for `POST /auth/zerodha/exchange`: a path of
    /// this server or an `https://` URL of the app.
    pub zerodha_return_url: String,
    /// How long a replica may remember a session's caller, in seconds (0:
    /// never). Revocations reach every replica at once through the fan-out
    /// bus; this bounds how long one that missed a notice could go on.
    pub session_cache_secs: u16,
    /// Deleting the account without the password needs a session signed
    /// in at most this many minutes ago.
    pub fresh_session_minutes: u32,
    /// Exports and deletion attempts one user may start per minute, after
    /// `account_action_burst` at once: an export reads everything they have.
    pub account_actions_per_minute: u32,
    pub account_action_burst: u32,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            session_ttl_hours: 24 * 30,
            account_free_failures: 5,
            ip_free_failures: 20,
            failure_window_minutes: 15,
            max_failure_wait_secs: 15 * 60,
            zerodha_return_url: "/".into(),
            session_cache_secs: 60,
            fresh_session_minutes: 10,
            account_actions_per_minute: 1,
            account_action_burst: 3,
        }
    }
}

impl AuthConfig {
    /// The per-user limit on exports and deletion attempts.
    pub fn account_limit(&self, enabled: bool) -> platform::config::RateLimitConfig {
        platform::config::RateLimitConfig {
            enabled,
            per_ip_per_minute: self.account_actions_per_minute.max(1),
            burst: self.account_action_burst.max(1),
        }
    }

    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if self.session_ttl_hours == 0 {
            return Err(ConfigError::new(
                "`auth.session_ttl_hours`: must be at least 1",
            ));
        }
        if self.failure_window_minutes == 0 {
            return Err(ConfigError::new(
                "`auth.failure_window_minutes`: must be at least 1",
            ));
        }
        let url = &self.zerodha_return_url;
        let path = url.starts_with('/') && !url.starts_with("//");
        if !(path || url.starts_with("https://") || url.starts_with("http://")) || url.contains('#')
        {
            return Err(ConfigError::new(
                "`auth.zerodha_return_url`: must be a path such as `/` or an http(s) URL, without a fragment",
            ));
        }
        Ok(())
    }
}
