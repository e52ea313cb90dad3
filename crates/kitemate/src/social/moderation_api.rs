//! HTTP handlers of blocks and reports.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::Validate;

use super::SocialState;
use super::model::{ReportPage, ReportReason, ReportReceipt, ReportStatus, ReportTarget};
use crate::auth::{Admin, Auth};

const TAG: &str = "social";

/// Block someone: neither follows the other any more, and they cannot
/// follow you, see your profile, or fork or like your widgets.
#[utoipa::path(put, path = "/profiles/{username}/block", tag = TAG,
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 204, description = "Blocked"),
        (status = 400, description = "That is you", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn block_profile(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.block(&caller.user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unblock someone; not blocked changes nothing.
#[utoipa::path(delete, path = "/profiles/{username}/block", tag = TAG,
    security(("bearer" = [])),
    params(("username" = String, Path, description = "Any case")),
    responses(
        (status = 204, description = "Not blocked"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ))]
pub async fn unblock_profile(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.unblock(&caller.user, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A report of a public widget or profile.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewReport {
    pub target: ReportTarget,
    /// A widget's id, or a profile's username.
    #[validate(length(min = 1, max = 64))]
    #[schema(min_length = 1, max_length = 64)]
    pub id: String,
    pub reason: ReportReason,
    /// What is wrong, up to 500 characters.
    #[schema(max_length = 500)]
    pub note: Option<String>,
}

/// Report a public widget or profile to the administrators.
#[utoipa::path(post, path = "/reports", tag = TAG,
    security(("bearer" = [])),
    request_body = NewReport,
    responses(
        (status = 201, description = "Filed (or the open report you filed before)", body = ReportReceipt),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such public widget or profile", body = ErrorBody),
        (status = 429, description = "Too many reports; see `Retry-After`", body = ErrorBody),
    ))]
pub async fn file_report(
    State(state): State<SocialState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<NewReport>,
) -> Result<(StatusCode, ApiJson<ReportReceipt>), ApiError> {
    let receipt = state
        .service
        .report(
            &caller.user,
            req.target,
            &req.id,
            req.reason,
            req.note.as_deref().unwrap_or(""),
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(receipt)))
}

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportQuery {
    /// `open` when left out.
    pub status: Option<ReportStatus>,
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// 1–50; 20 when left out.
    #[validate(range(min = 1, max = 50))]
    #[param(minimum = 1, maximum = 50)]
    pub limit: Option<i64>,
}

/// Reports, the longest waiting first (administrators).
#[utoipa::path(get, path = "/admin/reports", tag = TAG,
    security(("bearer" = [])),
    params(ReportQuery),
    responses(
        (status = 200, description = "A page of reports", body = ReportPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
    ))]
pub async fn list_reports(
    State(state): State<SocialState>,
    Admin(_admin): Admin,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<ApiJson<ReportPage>, ApiError> {
    let page = state
        .service
        .reports(
            query.status.unwrap_or(ReportStatus::Open),
            query.cursor.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(ApiJson(page))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Resolved {
    /// `hidden` or `dismissed`; every open report of the same thing too.
    pub status: ReportStatus,
}

/// Hide what a report reports: it disappears from discovery, profiles,
/// feeds, share links and embeds (administrators).
#[utoipa::path(post, path = "/admin/reports/{id}/hide", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Hidden", body = Resolved),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    ))]
pub async fn hide_reported(
    State(state): State<SocialState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<ApiJson<Resolved>, ApiError> {
    let status = state.service.resolve_report(&admin.user, &id, true).await?;
    Ok(ApiJson(Resolved { status }))
}

/// Dismiss a report: what it reports stays (administrators).
#[utoipa::path(post, path = "/admin/reports/{id}/dismiss", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path)),
    responses(
        (status = 200, description = "Dismissed", body = Resolved),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not an administrator", body = ErrorBody),
        (status = 404, description = "No such report", body = ErrorBody),
    ))]
pub async fn dismiss_report(
    State(state): State<SocialState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<ApiJson<Resolved>, ApiError> {
    let status = state
        .service
        .resolve_report(&admin.user, &id, false)
        .await?;
    Ok(ApiJson(Resolved { status }))
}
