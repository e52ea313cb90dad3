//! HTTP handlers for syncing from Kite and what it records.

use axum::extract::State;
use platform::{ApiError, ApiJson, ErrorBody};

use super::super::PortfolioState;
use super::super::model::{PositionList, SyncReport};
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
