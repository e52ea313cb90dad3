//! HTTP handlers for dashboards.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use platform::{ApiError, ApiJson, ApiQuery, ErrorBody};
use serde::Deserialize;
use utoipa::ToSchema;
use validator::Validate;

use super::WidgetsState;
use super::api::ListQuery;
use super::model::{Dashboard, DashboardPage, DashboardView, Placement, Visibility};
use crate::auth::Auth;

const TAG: &str = "widgets";

/// A new dashboard.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CreateDashboard {
    #[schema(min_length = 1, max_length = 100)]
    pub title: String,
    /// The caller's widgets on a 12-column grid, inside it and not
    /// overlapping, each once, at most 50; empty when left out.
    #[serde(default)]
    #[schema(max_items = 50)]
    pub layout: Vec<Placement>,
}

/// A change: what is present changes.
#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ChangeDashboard {
    #[schema(min_length = 1, max_length = 100)]
    pub title: Option<String>,
    #[schema(max_items = 50)]
    pub layout: Option<Vec<Placement>>,
    /// `public` lists it on your profile with its shared widgets (private
    /// widgets on it stay private) and lets others fork it.
    pub visibility: Option<Visibility>,
}

/// Make a dashboard. Free accounts keep 1 (their starter); past that the
/// answer is 403 `permission_denied` "pro subscription required".
#[utoipa::path(post, path = "/dashboards", tag = TAG,
    security(("bearer" = [])),
    request_body = CreateDashboard,
    responses(
        (status = 201, description = "The dashboard", body = Dashboard),
        (status = 400, description = "A field is invalid, a widget is outside the grid, overlaps another or is not the caller's", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The Free plan's dashboards are used up", body = ErrorBody),
    ))]
pub async fn create_dashboard(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    ApiJson(req): ApiJson<CreateDashboard>,
) -> Result<(StatusCode, ApiJson<Dashboard>), ApiError> {
    let made = state
        .service
        .create_dashboard(&caller.user, &req.title, req.layout)
        .await?;
    Ok((StatusCode::CREATED, ApiJson(made)))
}

/// The caller's dashboards, newest first, a page at a time.
#[utoipa::path(get, path = "/dashboards", tag = TAG,
    security(("bearer" = [])),
    params(ListQuery),
    responses(
        (status = 200, description = "A page of dashboards", body = DashboardPage),
        (status = 400, description = "A parameter is invalid", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn list_dashboards(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<ApiJson<DashboardPage>, ApiError> {
    let page = state
        .service
        .dashboards(
            &caller.user,
            query.cursor.as_deref(),
            query.limit.unwrap_or(20),
        )
        .await?;
    Ok(ApiJson(page))
}

/// One of the caller's dashboards with every widget on it and its data.
#[utoipa::path(get, path = "/dashboards/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The dashboard")),
    responses(
        (status = 200, description = "The dashboard, its widgets and their data", body = DashboardView),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such dashboard of the caller's", body = ErrorBody),
    ))]
pub async fn get_dashboard(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<ApiJson<DashboardView>, ApiError> {
    Ok(ApiJson(state.service.dashboard(&caller.user, &id).await?))
}

/// Rename a dashboard, move its widgets, or make it public.
#[utoipa::path(patch, path = "/dashboards/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The dashboard")),
    request_body = ChangeDashboard,
    responses(
        (status = 200, description = "The dashboard as changed", body = Dashboard),
        (status = 400, description = "A field is invalid, a widget is outside the grid, overlaps another or is not the caller's", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such dashboard of the caller's", body = ErrorBody),
    ))]
pub async fn change_dashboard(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<ChangeDashboard>,
) -> Result<ApiJson<Dashboard>, ApiError> {
    let changed = state
        .service
        .change_dashboard(&caller.user, &id, req.title, req.layout, req.visibility)
        .await?;
    Ok(ApiJson(changed))
}

/// Delete a dashboard (its widgets stay).
#[utoipa::path(delete, path = "/dashboards/{id}", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The dashboard")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 404, description = "No such dashboard of the caller's", body = ErrorBody),
    ))]
pub async fn delete_dashboard(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.service.delete_dashboard(&caller.user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Copy a dashboard with copies of its widgets (private), all or nothing.
#[utoipa::path(post, path = "/dashboards/{id}/duplicate", tag = TAG,
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The dashboard")),
    responses(
        (status = 201, description = "The copy", body = Dashboard),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "The Free plan's dashboards or widgets are used up", body = ErrorBody),
        (status = 404, description = "No such dashboard of the caller's", body = ErrorBody),
    ))]
pub async fn duplicate_dashboard(
    State(state): State<WidgetsState>,
    Auth(caller): Auth,
    Path(id): Path<String>,
) -> Result<(StatusCode, ApiJson<Dashboard>), ApiError> {
    let copy = state.service.duplicate_dashboard(&caller.user, &id).await?;
    Ok((StatusCode::CREATED, ApiJson(copy)))
}
