//! The hello service: `POST /ping`, the original spec's first endpoint and
//! our hello-world benchmark.

use platform::ratelimit::RateLimiter;
use platform::service::{Declaration, Mount};
use platform::{ApiJson, ErrorBody};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use validator::Validate;

#[derive(Debug, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PingParams {
    /// Who to greet.
    #[validate(length(min = 1, max = 100))]
    #[schema(example = "World", min_length = 1, max_length = 100)]
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct PingResponse {
    #[schema(example = "Hello World!")]
    pub message: String,
}

/// Say hello.
#[utoipa::path(post, path = "/ping", tag = "hello",
    request_body = PingParams,
    responses(
        (status = 200, description = "The greeting", body = PingResponse),
        (status = 400, description = "`name` missing or invalid", body = ErrorBody),
        (status = 429, description = "Too many requests", body = ErrorBody),
    ))]
pub async fn ping(ApiJson(params): ApiJson<PingParams>) -> ApiJson<PingResponse> {
    ApiJson(PingResponse {
        message: format!("Hello {}!", params.name),
    })
}

/// The hello service: no database, one public route.
pub static SERVICE: Declaration = Declaration {
    name: "hello",
    description: "Hello world",
    databases: &[],
    buckets: &[],
    topics: &[],
    settings: &[],
    spec: || router(RateLimiter::disabled()).into_openapi(),
};

/// The service as the app mounts it; `limiter` is the shared per-IP one.
pub fn mount(limiter: RateLimiter) -> Mount {
    Mount::new(&SERVICE, router(limiter))
}

/// `/ping` is public, so it is rate limited per client IP.
pub fn router(limiter: RateLimiter) -> OpenApiRouter {
    OpenApiRouter::new()
        .routes(routes!(ping))
        .route_layer(limiter.by_ip())
}
