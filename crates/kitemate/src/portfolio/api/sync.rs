//! HTTP handlers for syncing from Kite and what it records.

use axum::extract::State;
use chrono::{NaiveDate, TimeDelta};
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::super::PortfolioState;
use super::super::model::{History, PositionList, SyncReport};
use super::TAG;
use crate::auth::Auth;

/// Refresh the caller's portfolio from Zerodha.
#[utoipa::path(post, path = "/portfolio/sync", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Synced", body = SyncReport),
        (status = 400, description = "Zerodha is not connected (`failed_precondition`)", body = ErrorBody),
        (status = 404, description = "Zerodha is not set up on this server", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "The Zerodha session ended; log in with Zerodha again (`failed_precondition`)", body = ErrorBody),
        (status = 429, description = "Too many syncs; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "Zerodha did not answer", body = ErrorBody),
    ))]
pub async fn sync(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
) -> Result<ApiJson<SyncReport>, ApiError> {
    if let Err(wait) = state
        .sync_limiter
        .check(&format!("sync:{}", caller.user.id))
        .await
    {
        return Err(ApiError::resource_exhausted(
            "syncing too often; try again shortly",
            wait.as_secs_f64().ceil() as u64,
        ));
    }
    state.service.sync(&caller.user.id).await.map(ApiJson)
}

/// Today's positions at the last sync.
#[utoipa::path(get, path = "/portfolio/positions", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Positions", body = PositionList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn positions(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
) -> Result<ApiJson<PositionList>, ApiError> {
    let positions = state.service.positions(&caller.user.id).await?;
    Ok(ApiJson(PositionList { positions }))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// First day (India time), YYYY-MM-DD, not after `to`; a year ago when left out.
    pub from: Option<NaiveDate>,
    /// Last day, YYYY-MM-DD; today when left out.
    pub to: Option<NaiveDate>,
}

/// The portfolio's value per day, as recorded by syncs (one per IST day).
#[utoipa::path(get, path = "/portfolio/history", tag = TAG,
    security(("bearer" = [])),
    params(HistoryQuery),
    responses(
        (status = 200, description = "Daily values, oldest first", body = History),
        (status = 400, description = "A date is invalid, or from is after to", body = ErrorBody),
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
    let days = state.service.history(&caller.user.id, from, to).await?;
    Ok(ApiJson(History { days }))
}
