//! Downloading the day's files from NSE, BSE and AMFI: plain HTTPS GETs
//! with a browser's headers (NSE's archive refuses clients that do not
//! look like one), retried with backoff when the source fails, and a
//! missing file (not published yet) told apart from a failing source.

use std::time::Duration;

use chrono::{Datelike as _, NaiveDate};

use super::config::MarketConfig;
use super::formats::FILE_MAX;

/// The day NSE switched its cash-market bhavcopy to UDiFF.
pub const UDIFF_SINCE: NaiveDate = match NaiveDate::from_ymd_opt(2024, 7, 8) {
    Some(day) => day,
    None => panic!("a real date"),
};

/// A browser's request headers; NSE answers 403 to clients without them.
const USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36";

/// One of the files published each trading day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Feed {
    NseEquity,
    BseEquity,
    NseIndices,
    AmfiNav,
    /// NSE's daily market-data archive (`PRDDMMYY.zip`), for its `Bc`
    /// file of corporate actions.
    NseActions,
}

impl Feed {
    pub const ALL: [Self; 5] = [
        Self::NseEquity,
        Self::BseEquity,
        Self::NseIndices,
        Self::AmfiNav,
        Self::NseActions,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::NseEquity => "nse-equity",
            Self::BseEquity => "bse-equity",
            Self::NseIndices => "nse-indices",
            Self::AmfiNav => "amfi-nav",
            Self::NseActions => "nse-actions",
        }
    }

    /// Whether the day's prices cannot be had without this feed: NSE's
    /// equities and indices are; BSE and AMFI add to them.
    pub fn required(self) -> bool {
        matches!(self, Self::NseEquity | Self::NseIndices)
    }
}

/// Why a download did not give a file.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The source answered 404: not published (yet), or no such day.
    #[error("{feed} for {day} is not published ({url} answered 404)")]
    Missing {
        feed: &'static str,
        day: NaiveDate,
        url: String,
    },
    /// The source failed every try.
    #[error("{feed} for {day}: {url} failed after {attempts} tries: {reason}")]
    Failed {
        feed: &'static str,
        day: NaiveDate,
        url: String,
        attempts: u32,
        reason: String,
    },
}

/// The HTTP side of market data.
#[derive(Debug, Clone)]
pub struct Sources {
    http: reqwest::Client,
    config: std::sync::Arc<MarketConfig>,
}

fn month(day: NaiveDate) -> &'static str {
    const MONTHS: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    MONTHS[day.month0() as usize]
}

impl Sources {
    pub fn new(config: &MarketConfig) -> anyhow::Result<Self> {
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(Duration::from_secs(config.timeout_secs))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Self {
            http,
            config: std::sync::Arc::new(config.clone()),
        })
    }

    /// Where `feed`'s file of `day` is, and the page a browser would have
    /// come from (`Referer`); `None` where the feed has no file that day
    /// (BSE's bhavcopy before UDiFF, in a layout KiteMate does not read).
    pub fn url(
        &self,
        feed: Feed,
        day: NaiveDate,
        today: NaiveDate,
    ) -> Option<(String, &'static str)> {
        let c = &self.config;
        let ymd = day.format("%Y%m%d");
        Some(match feed {
            Feed::NseEquity if day >= UDIFF_SINCE => (
                format!(
                    "{}/content/cm/BhavCopy_NSE_CM_0_0_0_{ymd}_F_0000.csv.zip",
                    c.nse_url
                ),
                "https://www.nseindia.com/",
            ),
            Feed::NseEquity => (
                format!(
                    "{}/content/historical/EQUITIES/{}/{}/cm{:02}{}{}bhav.csv.zip",
                    c.nse_url,
                    day.year(),
                    month(day),
                    day.day(),
                    month(day),
                    day.year()
                ),
                "https://www.nseindia.com/",
            ),
            Feed::BseEquity if day >= UDIFF_SINCE => (
                format!(
                    "{}/download/BhavCopy/Equity/BhavCopy_BSE_CM_0_0_0_{ymd}_F_0000.CSV",
                    c.bse_url
                ),
                "https://www.bseindia.com/",
            ),
            Feed::BseEquity => return None,
            Feed::NseActions => (
                format!(
                    "{}/archives/equities/bhavcopy/pr/PR{}.zip",
                    c.nse_url,
                    day.format("%d%m%y")
                ),
                "https://www.nseindia.com/",
            ),
            Feed::NseIndices => (
                format!(
                    "{}/content/indices/ind_close_all_{}.csv",
                    c.nse_url,
                    day.format("%d%m%Y")
                ),
                "https://www.nseindia.com/",
            ),
            // Today's NAVs are in the file of the day; past ones in the history report.
            Feed::AmfiNav if day == today => (
                format!("{}/spages/NAVAll.txt", c.amfi_url),
                "https://www.amfiindia.com/",
            ),
            Feed::AmfiNav => {
                let d = day.format("%d-%b-%Y");
                (
                    format!(
                        "{}/DownloadNAVHistoryReport_Po.aspx?frmdt={d}&todt={d}",
                        c.amfi_history_url
                    ),
                    "https://www.amfiindia.com/",
                )
            }
        })
    }

    /// Downloads `feed`'s file of `day`, trying `market.attempts` times with
    /// a doubling wait when the source fails; a 404 is final at once.
    pub async fn fetch(
        &self,
        feed: Feed,
        day: NaiveDate,
        today: NaiveDate,
    ) -> Result<Option<(String, Vec<u8>)>, FetchError> {
        let Some((url, referer)) = self.url(feed, day, today) else {
            return Ok(None);
        };
        let mut wait = Duration::from_millis(self.config.retry_ms);
        let mut reason = String::new();
        for attempt in 1..=self.config.attempts {
            if attempt > 1 {
                tokio::time::sleep(wait).await;
                wait = wait.saturating_mul(2);
            }
            match self.get(&url, referer).await {
                Ok(Some(bytes)) => {
                    let name = url.rsplit('/').next().unwrap_or(&url).to_string();
                    return Ok(Some((name, bytes)));
                }
                Ok(None) => {
                    return Err(FetchError::Missing {
                        feed: feed.as_str(),
                        day,
                        url,
                    });
                }
                Err(err) => {
                    tracing::warn!(feed = feed.as_str(), %day, attempt, error = %err, "market file download failed");
                    reason = err;
                }
            }
        }
        Err(FetchError::Failed {
            feed: feed.as_str(),
            day,
            url,
            attempts: self.config.attempts,
            reason,
        })
    }

    /// One GET: the body, `None` on 404, or why it failed.
    async fn get(&self, url: &str, referer: &str) -> Result<Option<Vec<u8>>, String> {
        let response = self
            .http
            .get(url)
            .header("Accept", "text/csv,application/zip,text/plain,*/*")
            .header("Accept-Language", "en-IN,en;q=0.9")
            .header("Referer", referer)
            .send()
            .await
            .map_err(|err| format!("{}", err.without_url()))?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            return Err(format!("answered {status}"));
        }
        if response.content_length().is_some_and(|n| n > FILE_MAX) {
            return Err(format!("the file is larger than {FILE_MAX} bytes"));
        }
        let mut body = Vec::new();
        let mut response = response;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| format!("{}", err.without_url()))?
        {
            if body.len() as u64 + chunk.len() as u64 > FILE_MAX {
                return Err(format!("the file is larger than {FILE_MAX} bytes"));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Some(body))
    }
}
