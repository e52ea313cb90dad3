//! HTTP handlers for the portfolio day by day: history and returns.

use axum::extract::State;
use chrono::{NaiveDate, TimeDelta};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::super::PortfolioState;
use super::super::model::{History, Performance, Period};
use super::TAG;
use crate::auth::Auth;

/// The longest range one history request may cover: ten years of days.
const MAX_DAYS: i64 = 3_660;

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// First day (India time), YYYY-MM-DD, not after `to` and at most ten
    /// years before it; a year ago when left out.
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD; today when left out.
    pub to: Option<NaiveDate>,
}

/// The portfolio at each trading day's end: recorded by the daily refresh
/// and syncs, and before those worked out from imported trades and the
/// closing prices loaded. With NIFTY 50's close where it is loaded.
#[utoipa::path(get, path = "/portfolio/history", tag = TAG,
    security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "One point per trading day, oldest first", body = History),
        (status = 400, description = "A date is invalid, from is after to, or the range is over ten years", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn history(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<ApiJson<History>, ApiError> {
    let to = query.to.unwrap_or_else(|| state.service.today());
    let from = query.from.unwrap_or(to - TimeDelta::days(365));
    if from > to {
        return Err(ApiError::invalid_field("from", "is after to"));
    }
    if (to - from).num_days() > MAX_DAYS {
        return Err(ApiError::invalid_field(
            "from",
            "is more than ten years before to; ask for the history in parts",
        ));
    }
    let days = state.service.history(&caller.user.id, from, to).await?;
    Ok(ApiJson(History { days }))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PerformanceQuery {
    /// 1m, 3m, 6m, 1y, 3y, 5y or all; 1y when left out.
    pub period: Option<Period>,
}

/// How the portfolio did over a period: the time-weighted return (what the
/// holdings did, comparable with NIFTY 50) and the money-weighted return
/// (XIRR: what the investor earned, timing included), each labelled, with
/// NIFTY 50 over the same days and the difference.
#[utoipa::path(get, path = "/portfolio/performance", tag = TAG,
    security(("bearer" = [])),
    params(PerformanceQuery),
    responses(
        (status = 200, description = "Returns over the period", body = Performance),
        (status = 400, description = "Not a period (`invalid_argument`, field `period`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn performance(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<PerformanceQuery>,
) -> Result<ApiJson<Performance>, ApiError> {
    let period = query.period.unwrap_or(Period::OneYear);
    Ok(ApiJson(
        state.service.performance(&caller.user.id, period).await?,
    ))
}
