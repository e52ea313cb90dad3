//! Settings of the portfolio service (`[portfolio]` in kitemate.toml,
//! `KITEMATE_PORTFOLIO__*`).

use platform::config::{ConfigError, RateLimitConfig};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PortfolioConfig {
    /// Kite syncs one user may start a minute: each makes four calls
    /// against the app's own Kite limits, which every user shares.
    pub syncs_per_minute: u32,
    /// Syncs one user may start at once before the rate applies.
    pub sync_burst: u32,
    /// Uploaded Console files are kept this many days, then deleted (the
    /// import and its trades stay); 0 keeps them for as long as the account.
    pub keep_import_files_days: u32,
}

impl Default for PortfolioConfig {
    fn default() -> Self {
        Self {
            syncs_per_minute: 6,
            sync_burst: 3,
            keep_import_files_days: 365,
        }
    }
}

impl PortfolioConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, value) in [
            ("syncs_per_minute", self.syncs_per_minute),
            ("sync_burst", self.sync_burst),
        ] {
            if value == 0 {
                return Err(ConfigError::new(format!(
                    "`portfolio.{name}`: must be at least 1"
                )));
            }
        }
        Ok(())
    }

    /// The per-user sync limit; `enabled` follows `rate_limit.enabled`, so a
    /// load test turns every limit off at once.
    pub fn sync_limit(&self, enabled: bool) -> RateLimitConfig {
        RateLimitConfig {
            enabled,
            per_ip_per_minute: self.syncs_per_minute,
            burst: self.sync_burst,
        }
    }
}
