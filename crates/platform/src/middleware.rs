//! The middleware every request passes: CORS from configuration,
//! [`Observe`](crate::observe::Observe) (request id, span, timeout, metrics,
//! security headers), panics answered in the error shape, the body limit.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::config::{ConfigError, HttpConfig};
use crate::error::ApiError;
use crate::observe::{ObserveLayer, ObserveState, REQUEST_ID};

/// Wraps every route in the layers every request passes, outermost first:
/// CORS (when origins are allowed), [`ObserveLayer`], [`catch_panic`], the
/// body limit. They are applied as one stack: each `Router::layer` call boxes
/// every route once more, and the boxes and moves of nested futures cost a
/// small request a measurable share of its time (perf on `POST /ping`).
pub fn around(
    router: Router,
    observe_state: ObserveState,
    body_limit: usize,
    cors: Option<CorsLayer>,
) -> Router {
    router.layer(
        ServiceBuilder::new()
            .option_layer(cors)
            .layer(ObserveLayer::new(observe_state))
            .layer(catch_panic())
            .layer(DefaultBodyLimit::max(body_limit)),
    )
}

/// Answers a handler's panic as 500 `internal` in the error shape, and logs
/// it (the connection stays up, the other requests go on).
pub fn catch_panic()
-> tower_http::catch_panic::CatchPanicLayer<fn(Box<dyn std::any::Any + Send>) -> Response> {
    fn answer(panic: Box<dyn std::any::Any + Send>) -> Response {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        ApiError::internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
    }
    tower_http::catch_panic::CatchPanicLayer::custom(answer as fn(_) -> _)
}

/// CORS that allows only the configured origins; `None` when there are none
/// (the default), as browsers then refuse cross-origin reads anyway.
pub fn cors(config: &HttpConfig) -> Result<Option<CorsLayer>, ConfigError> {
    if config.cors_origins.is_empty() {
        return Ok(None);
    }
    let origins = config
        .cors_origins
        .iter()
        .map(|o| {
            HeaderValue::from_str(o).map_err(|_| {
                ConfigError::new(format!("`http.cors_origins`: {o:?} is not a valid origin"))
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Some(
        CorsLayer::new()
            .allow_origin(AllowOrigin::list(origins))
            .allow_methods([
                Method::GET,
                Method::POST,
                Method::PUT,
                Method::PATCH,
                Method::DELETE,
            ])
            .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE, REQUEST_ID])
            .expose_headers([REQUEST_ID, header::RETRY_AFTER])
            .max_age(Duration::from_secs(600)),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::extract::Request;
    use axum::routing::get;
    use tower::ServiceExt;

    #[tokio::test]
    async fn a_panic_is_answered_500_internal_in_the_error_shape() {
        #[expect(clippy::panic, reason = "the panic under test")]
        async fn boom() -> &'static str {
            panic!("arithmetic overflow in a calculation")
        }
        let app = Router::new()
            .route("/boom", get(boom))
            .route("/fine", get(|| async { "fine" }))
            .layer(catch_panic());
        let res = app
            .clone()
            .oneshot(
                Request::get("/boom")
                    .body(Body::empty())
                    .unwrap_or_default(),
            )
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1 << 16)
            .await
            .unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(json["code"], "internal");
        assert!(
            !json.to_string().contains("overflow"),
            "the panic's text stays in the log"
        );
        let fine = app
            .oneshot(
                Request::get("/fine")
                    .body(Body::empty())
                    .unwrap_or_default(),
            )
            .await
            .unwrap_or_else(|never| match never {});
        assert_eq!(fine.status(), axum::http::StatusCode::OK);
    }
}
