//! Settings of market data (`[market]` in kitemate.toml, `KITEMATE_MARKET__*`).

use std::path::PathBuf;

use platform::config::ConfigError;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketConfig {
    /// Fetch the day's files from NSE, BSE and AMFI in the daily refresh;
    /// off, prices come only from `kitemate prices load`.
    pub fetch: bool,
    /// Where NSE's archives are (`/content/cm/...`, `/content/indices/...`).
    pub nse_url: String,
    /// Where BSE's bhavcopies are (`/download/BhavCopy/Equity/...`).
    pub bse_url: String,
    /// Where AMFI's NAV of the day is (`/spages/NAVAll.txt`).
    pub amfi_url: String,
    /// Where AMFI's NAV history report is (`/DownloadNAVHistoryReport_Po.aspx`).
    pub amfi_history_url: String,
    /// A holiday calendar replacing the shipped one (`date,description`
    /// lines, dates YYYY-MM-DD); see `data/SOURCES.md`.
    pub holidays_file: Option<PathBuf>,
    /// Tries per file before a source counts as failing.
    pub attempts: u32,
    /// The wait before the first retry, doubled for each next one.
    pub retry_ms: u64,
    /// Time allowed for one download.
    pub timeout_secs: u64,
}

impl Default for MarketConfig {
    fn default() -> Self {
        Self {
            fetch: true,
            nse_url: "https://nsearchives.nseindia.com".into(),
            bse_url: "https://www.bseindia.com".into(),
            amfi_url: "https://www.amfiindia.com".into(),
            amfi_history_url: "https://portal.amfiindia.com".into(),
            holidays_file: None,
            attempts: 4,
            retry_ms: 30_000,
            timeout_secs: 60,
        }
    }
}

impl MarketConfig {
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (name, url) in [
            ("nse_url", &self.nse_url),
            ("bse_url", &self.bse_url),
            ("amfi_url", &self.amfi_url),
            ("amfi_history_url", &self.amfi_history_url),
        ] {
            if !(url.starts_with("https://") || url.starts_with("http://")) || url.ends_with('/') {
                return Err(ConfigError::new(format!(
                    "`market.{name}`: {url:?} is not a URL like https://example.com (no trailing /)"
                )));
            }
        }
        if self.attempts == 0 || self.timeout_secs == 0 {
            return Err(ConfigError::new(
                "`market.attempts` and `market.timeout_secs`: must be at least 1",
            ));
        }
        Ok(())
    }
}
