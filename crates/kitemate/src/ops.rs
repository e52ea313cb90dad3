//! Operations endpoints: liveness, readiness (every database answers), metrics.

use std::sync::Arc;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use platform::db::Db;
use platform::metrics::Metrics;
use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use platform::{ApiError, ApiJson, ErrorBody};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest as _, Sha256};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(Debug, Clone)]
pub struct OpsState {
    pub databases: Arc<[Db]>,
    pub metrics: Arc<Metrics>,
    /// Reads `/metrics` on the main listener; without one it is not there.
    pub metrics_token: Option<SecretString>,
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

/// Can it serve? Every service's database must answer. Which one did not
/// goes to the log, not to whoever asked.
#[utoipa::path(get, path = "/readyz", tag = "ops",
    responses(
        (status = 200, description = "Every database answers", body = Health),
        (status = 503, description = "A database does not answer (`unavailable`)", body = ErrorBody),
    ))]
pub async fn readyz(State(state): State<OpsState>) -> Result<ApiJson<Health>, ApiError> {
    for db in state.databases.iter() {
        if let Err(err) = db.ping().await {
            tracing::warn!(database = db.name(), error = %err, "database not ready");
            return Err(ApiError::unavailable(
                "not ready: a database does not answer",
            ));
        }
    }
    Ok(ApiJson(Health { status: "ok" }))
}

/// Prometheus metrics in the OpenMetrics text format, for the bearer of the
/// metrics token (`KITEMATE_METRICS_TOKEN`); without one set, there is no
/// such endpoint here (`metrics_listen` serves it on a private address).
#[utoipa::path(get, path = "/metrics", tag = "ops",
    security((), ("bearer" = [])),
    responses(
        (status = 200, description = "Metrics", content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "Missing or wrong metrics token", body = ErrorBody),
        (status = 404, description = "No metrics token is set: served only on `metrics_listen`", body = ErrorBody),
        (status = 429, description = "Too many requests from this address", body = ErrorBody),
    ))]
pub async fn metrics(State(state): State<OpsState>, headers: HeaderMap) -> Response {
    let Some(expected) = &state.metrics_token else {
        return ApiError::not_found("no such endpoint").into_response();
    };
    let sent = crate::auth::bearer_token(&headers).unwrap_or_default();
    let expected = expected.expose_secret().as_bytes();
    // Compared in constant time, by hashes of equal length.
    let same = Sha256::digest(sent.as_bytes())
        .iter()
        .zip(Sha256::digest(expected).iter())
        .fold(0u8, |acc, (a, b)| acc | (a ^ b))
        == 0;
    if !same {
        return ApiError::unauthenticated(
            "send the metrics token as `Authorization: Bearer <token>`",
        )
        .into_response();
    }
    state.metrics.render().into_response()
}

/// Only `GET /metrics`, with no token: for `metrics_listen`, a private address.
pub fn metrics_only(metrics: Arc<Metrics>) -> axum::Router {
    axum::Router::new().route(
        "/metrics",
        axum::routing::get(move || async move { metrics.render() }),
    )
}

/// The ops service: health, readiness and metrics, for the platform around us.
pub static SERVICE: Declaration = Declaration {
    name: "ops",
    description: "Health and metrics",
    databases: &[],
    buckets: &[],
    topics: &[],
    settings: &[],
    spec: || router_spec(RateLimiter::disabled()).into_openapi(),
};

pub fn mount(state: OpsState, limiter: RateLimiter) -> Mount {
    Mount::new(&SERVICE, router(state, limiter))
}

/// Every route here is public, so limited per client IP.
pub fn router(state: OpsState, limiter: RateLimiter) -> OpenApiRouter {
    router_spec(limiter).with_state(state)
}

/// The routes before they get their state, which is all the spec needs.
pub fn router_spec(limiter: RateLimiter) -> OpenApiRouter<OpsState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .route_layer(limiter.by_ip())
}
