//! Capital gains the way the return is filed: each sale matched to its
//! lots (FIFO, corporate actions applied), classified by the Income-tax
//! Act's rules, summed with losses set off and the s.112A exemption used,
//! exported as Schedule 112A and Schedule CG, and the current year's
//! harvesting view. The rules and their sources are in `docs/tax.md`.

mod export;
pub mod gains;
pub mod harvest;
pub mod model;
#[cfg(test)]
mod properties;
pub mod rules;

use platform::ApiError;

use super::service::PortfolioService;
pub use model::{CapitalGains, Harvest};

/// The most lines a page of gains or lots holds.
pub const MAX_PAGE: usize = 500;

/// Which schedule a CSV export holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Schedule {
    /// Schedule 112A's lines.
    #[serde(rename = "112a")]
    S112a,
    /// Schedule CG's summary.
    Cg,
}

/// `fy`, or the current financial year when none is given, checked.
fn year(
    fy: Option<&str>,
    today: chrono::NaiveDate,
) -> Result<(String, (chrono::NaiveDate, chrono::NaiveDate)), ApiError> {
    let fy = fy.map_or_else(|| super::calc::fifo::financial_year(today), str::to_string);
    let days = gains::fy_days(&fy).ok_or_else(|| {
        ApiError::invalid_field(
            "fy",
            "must be a financial year like 2024-25 (the second year the first plus one)",
        )
    })?;
    if chrono::Datelike::year(&days.0) < 2000 || days.0 > today {
        return Err(ApiError::invalid_field(
            "fy",
            "must be from 2000-01 to the current financial year",
        ));
    }
    Ok((fy, days))
}

impl PortfolioService {
    /// One financial year's capital gains (the current one when `fy` is none).
    pub async fn capital_gains(
        &self,
        user_id: &str,
        fy: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<CapitalGains, ApiError> {
        let (fy, days) = year(fy, self.clock.today_ist())?;
        let securities = self.securities(user_id).await?;
        Ok(gains::capital_gains(&securities, &fy, days, offset, limit))
    }

    /// A financial year's Schedule 112A or Schedule CG, as CSV.
    pub async fn capital_gains_csv(
        &self,
        user_id: &str,
        fy: Option<&str>,
        schedule: Schedule,
    ) -> Result<(String, String), ApiError> {
        let (fy, days) = year(fy, self.clock.today_ist())?;
        let securities = self.securities(user_id).await?;
        let text = match schedule {
            Schedule::S112a => export::schedule_112a(&gains::pieces(&securities, days.0, days.1)),
            Schedule::Cg => {
                export::schedule_cg(&gains::capital_gains(&securities, &fy, days, 0, 0))
            }
        };
        Ok((fy, text))
    }

    /// The current year's unrealized gains per lot, the exemption left, and
    /// what selling would book: information, not advice.
    pub async fn harvest(
        &self,
        user_id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Harvest, ApiError> {
        let today = self.clock.today_ist();
        let (fy, days) = year(None, today)?;
        let securities = self.securities(user_id).await?;
        let gains = gains::capital_gains(&securities, &fy, days, 0, 0);
        Ok(harvest::harvest(&securities, &gains, today, offset, limit))
    }
}
