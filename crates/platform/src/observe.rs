//! What every request passes first: an id, a span, a time limit, metrics,
//! and the security headers on its answer.
//!
//! A hand-written tower layer rather than `axum::middleware::from_fn`: that
//! one clones the inner service and boxes the rest of the stack on every
//! request, which cost `POST /ping` a measurable share (docs/benchmarks.md).

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant};

use axum::extract::{ConnectInfo, MatchedPath, Request};
use axum::http::{HeaderName, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use pin_project_lite::pin_project;
use tower::{Layer, Service};

use crate::client_ip::{ClientIp, client_ip};
use crate::error::{ApiError, ErrCode};
use crate::metrics::Metrics;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// What [`Observe`] needs, shared by every request.
#[derive(Debug, Clone)]
pub struct ObserveState {
    pub metrics: Arc<Metrics>,
    pub timeout: Duration,
    pub trust_forwarded_for: bool,
    /// Tells browsers to come back over HTTPS only (production, behind TLS).
    pub hsts: bool,
}

/// Wraps a service in [`Observe`].
#[derive(Debug, Clone)]
pub struct ObserveLayer {
    state: Arc<ObserveState>,
}

impl ObserveLayer {
    pub fn new(state: ObserveState) -> Self {
        Self {
            state: Arc::new(state),
        }
    }
}

impl<S> Layer<S> for ObserveLayer {
    type Service = Observe<S>;

    fn layer(&self, inner: S) -> Observe<S> {
        Observe {
            inner,
            state: Arc::clone(&self.state),
        }
    }
}

/// Gives the request an id (the client's `X-Request-Id` when it is sane),
/// runs it inside a span carrying that id, bounds its time, records metrics,
/// and adds the id and security headers to the answer.
#[derive(Debug, Clone)]
pub struct Observe<S> {
    inner: S,
    state: Arc<ObserveState>,
}

impl<S, B> Service<Request> for Observe<S>
where
    S: Service<Request, Response = axum::http::Response<B>>,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Observed<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let state = &self.state;
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0);
        let ip = client_ip(req.headers(), peer, state.trust_forwarded_for);
        req.extensions_mut().insert(ClientIp(ip));
        let id = req
            .headers()
            .get(&REQUEST_ID)
            .filter(|v| v.to_str().is_ok_and(is_sane_request_id))
            .cloned()
            .unwrap_or_else(fresh_request_id);
        req.extensions_mut().insert(RequestId(id.clone()));
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map_or("unmatched", |p| p.as_str());
        let route = state.metrics.route(route);
        let method = req.method().clone();
        let span = tracing::info_span!("request",
            request_id = id.to_str().unwrap_or_default(), method = %method, route);
        let inner = {
            let _entered = span.enter();
            self.inner.call(req)
        };
        Observed {
            inner: tokio::time::timeout(state.timeout, inner),
            done: Some(Done {
                state: Arc::clone(state),
                span,
                id,
                method,
                route,
                started: Instant::now(),
            }),
        }
    }
}

pin_project! {
    /// The answer of an [`Observe`]d request.
    pub struct Observed<F> {
        #[pin]
        inner: tokio::time::Timeout<F>,
        done: Option<Done>,
    }
}

/// What is left to do when the answer is ready.
struct Done {
    state: Arc<ObserveState>,
    span: tracing::Span,
    id: HeaderValue,
    method: Method,
    route: &'static str,
    started: Instant,
}

impl<F, B, E> Future for Observed<F>
where
    F: Future<Output = Result<axum::http::Response<B>, E>>,
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Output = Result<Response, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let polled = match this.done.as_ref() {
            Some(done) => {
                let _entered = done.span.enter();
                this.inner.poll(cx)
            }
            None => this.inner.poll(cx),
        };
        let response = match ready!(polled) {
            Ok(Ok(response)) => response.map(axum::body::Body::new),
            Ok(Err(err)) => return Poll::Ready(Err(err)),
            Err(_elapsed) => ApiError::new(ErrCode::DeadlineExceeded, "the request took too long")
                .into_response(),
        };
        Poll::Ready(Ok(match this.done.take() {
            Some(done) => done.finish(response),
            None => response,
        }))
    }
}

impl Done {
    fn finish(self, mut response: Response) -> Response {
        let elapsed = self.started.elapsed();
        let status = response.status().as_u16();
        self.state
            .metrics
            .record(self.method.as_str(), self.route, status, elapsed);
        self.span.in_scope(|| {
            tracing::info!(
                status,
                latency_ms = elapsed.as_secs_f64() * 1000.0,
                "request answered"
            );
        });

        let framed = response.extensions().get::<MayBeFramed>().is_some();
        let headers = response.headers_mut();
        // One growth of the map instead of one per header below.
        headers.reserve(7);
        headers.insert(REQUEST_ID, self.id);
        headers.insert(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
        // Pages made to be framed elsewhere say so with their own CSP
        // `frame-ancestors` and mark the response; nothing else may be framed.
        if !framed {
            headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        }
        if self.state.hsts {
            headers.insert(
                header::STRICT_TRANSPORT_SECURITY,
                HeaderValue::from_static("max-age=31536000; includeSubDomains"),
            );
        }
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
        headers
            .entry(header::CONTENT_SECURITY_POLICY)
            .or_insert(HeaderValue::from_static(
                "default-src 'none'; frame-ancestors 'none'",
            ));
        headers
            .entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
        response
    }
}

/// A request extension: the request's id, as its answer carries it.
#[derive(Debug, Clone)]
pub struct RequestId(pub HeaderValue);

/// Extractor: which request this is and where it came from, for records
/// such as the audit log (never refused; empty outside [`Observe`]).
#[derive(Debug, Clone, Default)]
pub struct RequestInfo {
    pub request_id: String,
    pub ip: Option<std::net::IpAddr>,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for RequestInfo {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(Self {
            request_id: parts
                .extensions
                .get::<RequestId>()
                .and_then(|id| id.0.to_str().ok())
                .unwrap_or_default()
                .to_string(),
            ip: parts.extensions.get::<ClientIp>().and_then(|ip| ip.0),
        })
    }
}

/// A response extension: this page is made to be framed on other sites (an
/// embed), so no `X-Frame-Options: DENY`; its handler sets the CSP that
/// says who may frame it.
#[derive(Debug, Clone, Copy)]
pub struct MayBeFramed;

/// A UUIDv7 (time-ordered, so logs sort by it) from the thread's random
/// generator: `Uuid::now_v7` takes a process-wide lock and a `getrandom`
/// system call per id, a measurable share of a small request's cost.
fn fresh_request_id() -> HeaderValue {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &rand::random()).into_uuid();
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    HeaderValue::from_str(uuid.hyphenated().encode_lower(&mut text))
        .unwrap_or(HeaderValue::from_static("unknown"))
}

/// Client-chosen ids go into log lines, so only short printable ASCII is taken.
fn is_sane_request_id(value: &str) -> bool {
    (1..=128).contains(&value.len())
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::body::Body;
    use axum::routing::get;
    use tower::ServiceExt;

    fn layer(timeout: Duration) -> ObserveLayer {
        ObserveLayer::new(ObserveState {
            metrics: Metrics::new(),
            timeout,
            trust_forwarded_for: false,
            hsts: false,
        })
    }

    #[tokio::test]
    async fn slow_requests_are_answered_504_deadline_exceeded() {
        let app = Router::new()
            .route(
                "/slow",
                get(|| async {
                    tokio::time::sleep(Duration::from_secs(5)).await;
                    "late"
                }),
            )
            .layer(layer(Duration::from_millis(50)));
        let request = Request::get("/slow").body(Body::empty()).unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), axum::http::StatusCode::GATEWAY_TIMEOUT);
        assert!(response.headers().contains_key(&REQUEST_ID));
        let body = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(json["code"], "deadline_exceeded");
    }

    #[tokio::test]
    async fn made_ids_are_distinct_time_ordered_uuids() {
        let app = Router::new()
            .route("/", get(|| async { "ok" }))
            .layer(layer(Duration::from_secs(5)));
        let mut ids = Vec::new();
        for _ in 0..50 {
            let response = app
                .clone()
                .oneshot(Request::get("/").body(Body::empty()).unwrap())
                .await
                .unwrap();
            let id = response.headers()[&REQUEST_ID]
                .to_str()
                .unwrap()
                .to_string();
            let uuid = uuid::Uuid::parse_str(&id).unwrap();
            assert_eq!(uuid.get_version_num(), 7, "{id}");
            ids.push(id);
        }
        let mut distinct = ids.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), ids.len(), "every request gets its own id");
    }

    #[test]
    fn request_ids_from_clients_are_bounded() {
        assert!(is_sane_request_id("abc-123_x.y:z"));
        assert!(!is_sane_request_id(""));
        assert!(!is_sane_request_id("has space"));
        assert!(!is_sane_request_id("line\nbreak"));
        assert!(!is_sane_request_id(&"a".repeat(129)));
    }
}
