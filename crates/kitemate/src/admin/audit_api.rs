//! `GET /admin/audit`: the audit log, for administrators.

use axum::extract::State;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use validator::Validate;

use super::{AdminState, TAG};
use crate::audit::{AuditPage, AuditQuery};
use crate::auth::Admin;

#[derive(Debug, Deserialize, Validate, utoipa::IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
pub struct AuditFilter {
    /// Only entries about this user.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub user_id: Option<String>,
    /// Only this action (`tier.changed`), or every action under a prefix
    /// ending in `.` (`subscription.`).
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub action: Option<String>,
    /// `nextCursor` of the previous page.
    #[validate(length(min = 1, max = 64))]
    #[param(min_length = 1, max_length = 64)]
    pub cursor: Option<String>,
    /// Entries per page, 1–100; 50 when left out.
    #[validate(range(min = 1, max = 100))]
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// The audit log, newest first: payments and tier changes, Zerodha
/// connections, sessions revoked, keys rotated, administrators' actions.
#[utoipa::path(get, path = "/admin/audit", tag = TAG,
    security(("bearer" = [])),
    params(AuditFilter),
    responses(
        (status = 200, description = "A page of entries", body = AuditPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "No valid session", body = ErrorBody),
        (status = 403, description = "Not an administrator (`permission_denied`)", body = ErrorBody),
    ))]
pub async fn get_audit(
    State(state): State<AdminState>,
    _admin: Admin,
    ApiQuery(filter): ApiQuery<AuditFilter>,
) -> Result<ApiJson<AuditPage>, ApiError> {
    let page = state
        .audit
        .page(&AuditQuery {
            user_id: filter.user_id.as_deref(),
            action: filter.action.as_deref(),
            cursor: filter.cursor.as_deref(),
            limit: filter.limit.unwrap_or(50),
        })
        .await?;
    Ok(ApiJson(page))
}
