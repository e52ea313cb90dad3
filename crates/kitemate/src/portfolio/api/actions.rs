//! HTTP handlers of corporate actions: those that touch the caller's
//! securities, and declaring one that no source has.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ErrorBody};

use super::super::PortfolioState;
use super::super::model::{CorporateActionList, DeclareAction};
use super::TAG;
use crate::auth::Auth;
use crate::market::CorporateAction;

/// The corporate actions applied to the caller's securities.
///
/// Splits, consolidations, bonuses, mergers, demergers and ISIN changes
/// from KiteMate's curated table, NSE's files and the caller's own
/// declarations; each is applied to the lots before FIFO.
#[utoipa::path(get, path = "/portfolio/corporate-actions", tag = TAG,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Corporate actions, oldest first", body = CorporateActionList),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_actions(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
) -> Result<ApiJson<CorporateActionList>, ApiError> {
    state
        .service
        .corporate_actions(&caller.user.id)
        .await
        .map(ApiJson)
}

/// Declare a corporate action for one of your securities.
///
/// For an action the sources lack (or get wrong for you): it applies to
/// your portfolio only, before market data's copy of the same action.
#[utoipa::path(post, path = "/portfolio/corporate-actions", tag = TAG,
    security(("bearer" = [])),
    request_body = DeclareAction,
    responses(
        (status = 201, description = "Declared; holdings and gains are worked out again", body = CorporateAction),
        (status = 400, description = "A field is malformed or does not fit the kind of action, or none of your securities is the one named (`field` says which); or 100 are declared already, the most one account may (`failed_precondition`)", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 409, description = "Declared already (same security, kind and ex-date)", body = ErrorBody),
        (status = 429, description = "Declaring too often; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn declare_action(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    ApiJson(body): ApiJson<DeclareAction>,
) -> Result<(StatusCode, ApiJson<CorporateAction>), ApiError> {
    // Each declaration works the user's portfolio out again.
    if let Err(wait) = state
        .sync_limiter
        .check(&format!("declare:{}", caller.user.id))
        .await
    {
        return Err(ApiError::resource_exhausted(
            "declaring too often; try again shortly",
            wait.as_secs_f64().ceil() as u64,
        ));
    }
    let action = state.service.declare_action(&caller.user.id, body).await?;
    Ok((StatusCode::CREATED, ApiJson(action)))
}

/// Delete a corporate action you declared.
#[utoipa::path(delete, path = "/portfolio/corporate-actions/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The declared action's id", max_length = 64)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "You declared none with that id", body = ErrorBody),
    ))]
pub async fn forget_action(
    State(state): State<PortfolioState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    if id.len() > 64 {
        return Err(ApiError::not_found(
            "you declared no corporate action with that id",
        ));
    }
    state.service.forget_action(&caller.user.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
