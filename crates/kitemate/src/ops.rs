//! Operations endpoints: liveness, readiness (every database answers), metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use platform::db::Db;
use platform::metrics::Metrics;
use platform::{ApiError, ApiJson, ErrorBody};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Clone)]
pub struct OpsState {
    pub databases: Arc<Vec<Db>>,
    pub metrics: Arc<Metrics>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: &'static str,
}

/// Is the process alive?
#[utoipa::path(get, path = "/healthz", tag = "ops",
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> ApiJson<Health> {
    ApiJson(Health { status: "ok" })
}

/// Can it serve? Every service's database must answer.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Every database answers", body = Health),
        (status = 503, description = "A database does not answer (`unavailable`)", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<OpsState>) -> Result<ApiJson<Health>, ApiError> {
    for db in state.databases.iter() {
        if let Err(err) = db.ping().await {
            tracing::warn!(database = db.name(), error = %err, "database not ready");
            return Err(ApiError::unavailable(format!(
                "database {} does not answer",
                db.name()
            )));
        }
    }
    Ok(ApiJson(Health { status: "ok" }))
}

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(get, path = "/metrics", tag = "ops",
    responses((status = 200, description = "Metrics", content_type = "application/openmetrics-text", body = String)))]
pub async fn metrics(State(state): State<OpsState>) -> Response {
    state.metrics.render().into_response()
}

pub fn router(state: OpsState) -> OpenApiRouter {
    router_spec().with_state(state)
}

/// The routes before they get their state, which is all the spec needs.
pub fn router_spec() -> OpenApiRouter<OpsState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
}
