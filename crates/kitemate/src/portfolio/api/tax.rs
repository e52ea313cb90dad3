//! HTTP handlers of capital-gains tax: the year's gains as the return is
//! filed, its schedules as CSV, and the current year's harvesting view.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::super::PortfolioState;
use super::super::tax::{CapitalGains, Harvest, MAX_PAGE, Schedule};
use super::TAG;
use crate::auth::Auth;

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct GainsQuery {
    /// A financial year like `2024-25` (the second year follows the
    /// first), from 2000-01 to the current one; the current one when left out.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    #[validate(length(equal = 7))]
    pub fy: Option<String>,
    /// 0–10,000,000; 0 when left out.
    #[validate(range(min = 0, max = 10_000_000))]
    #[param(minimum = 0, maximum = 10_000_000)]
    pub offset: Option<i64>,
    /// 1–500 lines; 100 when left out.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

fn page(offset: Option<i64>, limit: Option<i64>) -> (usize, usize) {
    (
        usize::try_from(offset.unwrap_or(0)).unwrap_or(0),
        usize::try_from(limit.unwrap_or(100))
            .unwrap_or(100)
            .min(MAX_PAGE),
    )
}

/// Capital gains of a financial year, the way the return is filed.
///
/// Every sale matched to its lots (FIFO, corporate actions applied) with
/// acquisition and sale dates, holding period, cost (grandfathered where
/// bought before 1 February 2018), proceeds and classification; totals per
/// category and rate period, losses set off, the s.112A exemption used and
/// left, and the tax at the listed rates before surcharge and cess.
#[utoipa::path(get, path = "/portfolio/tax/capital-gains", tag = TAG,
    security(("bearer" = [])),
    params(GainsQuery),
    responses(
        (status = 200, description = "The year's capital gains", body = CapitalGains),
        (status = 400, description = "`fy` is not a financial year like 2024-25 from 2000-01 to now, or a page parameter is out of range", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn capital_gains(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<GainsQuery>,
) -> Result<ApiJson<CapitalGains>, ApiError> {
    let (offset, limit) = page(query.offset, query.limit);
    state
        .service
        .capital_gains(&caller.user.id, query.fy.as_deref(), offset, limit)
        .await
        .map(ApiJson)
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// A financial year like `2024-25` (the second year follows the
    /// first), from 2000-01 to the current one; the current one when left out.
    #[param(pattern = r"^[0-9]{4}-[0-9]{2}$")]
    #[validate(length(equal = 7))]
    pub fy: Option<String>,
    /// `112a` (Schedule 112A's lines, the default) or `cg` (Schedule CG's summary).
    #[param(inline)]
    pub schedule: Option<Schedule>,
}

/// A CSV answer, offered as a download under its own name.
pub struct CsvFile(pub String, pub String);

impl IntoResponse for CsvFile {
    fn into_response(self) -> Response {
        let disposition = format!("attachment; filename=\"{}\"", self.0);
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
                (header::CONTENT_DISPOSITION, disposition),
                (header::CACHE_CONTROL, "private, no-store".to_string()),
            ],
            self.1,
        )
            .into_response()
    }
}

/// A financial year's Schedule 112A lines or Schedule CG summary, as CSV.
///
/// Schedule 112A, scrip-wise: the long-term sales of equity summed per
/// ISIN, rate period and acquisition before or after 1 February 2018, in
/// the schedule's columns, with the 31 January 2018 value for grandfathered
/// shares. Schedule CG: the year's figures in its order.
#[utoipa::path(get, path = "/portfolio/tax/capital-gains.csv", tag = TAG,
    security(("bearer" = [])),
    params(ExportQuery),
    responses(
        (status = 200, description = "The schedule", content_type = "text/csv", body = String),
        (status = 400, description = "`fy` is not a financial year like 2024-25 from 2000-01 to now, or `schedule` is neither 112a nor cg", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn capital_gains_csv(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ExportQuery>,
) -> Result<CsvFile, ApiError> {
    let schedule = query.schedule.unwrap_or(Schedule::S112a);
    let (fy, text) = state
        .service
        .capital_gains_csv(&caller.user.id, query.fy.as_deref(), schedule)
        .await?;
    let name = match schedule {
        Schedule::S112a => "schedule-112a",
        Schedule::Cg => "schedule-cg",
    };
    Ok(CsvFile(format!("kitemate-{name}-fy{fy}.csv"), text))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HarvestQuery {
    /// 0–10,000,000; 0 when left out.
    #[validate(range(min = 0, max = 10_000_000))]
    #[param(minimum = 0, maximum = 10_000_000)]
    pub offset: Option<i64>,
    /// 1–500 lots; 100 when left out.
    #[validate(range(min = 1, max = 500))]
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<i64>,
}

/// This year's unrealized gains per lot, the exemption left, and which
/// sales would book gains within it or losses against short-term gains.
///
/// Information, not advice: sales take the oldest shares first (FIFO).
#[utoipa::path(get, path = "/portfolio/tax/harvest", tag = TAG,
    security(("bearer" = [])),
    params(HarvestQuery),
    responses(
        (status = 200, description = "Lots, the exemption left and ideas", body = Harvest),
        (status = 400, description = "A page parameter is out of range", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn harvest(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<HarvestQuery>,
) -> Result<ApiJson<Harvest>, ApiError> {
    let (offset, limit) = page(query.offset, query.limit);
    state
        .service
        .harvest(&caller.user.id, offset, limit)
        .await
        .map(ApiJson)
}
