//! Settings of the social service (`[social]` in kitemate.toml,
//! `KITEMATE_SOCIAL__*`): how often one user may fork, like, follow and
//! report, the same on Free and Pro.

use platform::config::{ConfigError, RateLimitConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SocialConfig {
    /// Forks, likes, follows (and unlikes, unfollows) one user may make a
    /// minute, each counted on its own.
    pub actions_per_minute: u32,
    /// How many may come at once before the rate applies.
    pub action_burst: u32,
    /// Reports one user may file a minute.
    pub reports_per_minute: u32,
    /// Whom one user may follow.
    pub max_following: u32,
}

impl Default for SocialConfig {
    fn default() -> Self {
        Self {
            actions_per_minute: 30,
            action_burst: 10,
            reports_per_minute: 5,
            max_following: 2000,
        }
    }
}

impl SocialConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("actions_per_minute", self.actions_per_minute),
            ("action_burst", self.action_burst),
            ("reports_per_minute", self.reports_per_minute),
            ("max_following", self.max_following),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "`social.{name}`: must be at least 1"
                )));
            }
        }
        Ok(())
    }

    /// The per-user limit on forks, likes and follows; `enabled` follows
    /// `rate_limit.enabled`.
    pub fn action_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.actions_per_minute,
            burst: self.action_burst,
        }
    }

    /// The per-user limit on reports.
    pub fn report_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.reports_per_minute,
            burst: self.reports_per_minute.min(self.action_burst),
        }
    }
}
