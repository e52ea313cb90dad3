//! The platform's API layer seen from outside: errors, limits, headers, CORS, rate limits.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Kind, TestApp, TestResult};

async fn ping_says_hello(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let reply = app.post("/ping", json!({ "name": "World" })).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "message": "Hello World!" }));
    app.stop().await
}

async fn bad_json_is_a_400_naming_the_field(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let cases = [
        (json!({}), "name: is required"),
        (
            json!({ "name": 5 }),
            "name: invalid type: integer `5`, expected a string",
        ),
        (
            json!({ "name": "" }),
            "name: must be 1 to 100 characters long",
        ),
        (
            json!({ "name": "a".repeat(101) }),
            "name: must be 1 to 100 characters long",
        ),
    ];
    for (body, message) in cases {
        let reply = app.post("/ping", body.clone()).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(reply.code(), "invalid_argument");
        assert_eq!(reply.message(), message);
        assert_eq!(reply.json()["details"]["field"], "name");
    }
    let reply = app
        .post("/ping", json!({ "name": "x", "extra": 1 }))
        .await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert!(
        reply.message().contains("unknown field `extra`"),
        "{}",
        reply.message()
    );

    let res = app
        .client
        .post(app.url("/ping"))
        .header("content-type", "application/json")
        .body("{\"name\": ")
        .send()
        .await?;
    let reply = TestApp::read(res).await?;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST);
    assert_eq!(reply.code(), "invalid_argument");
    assert!(
        reply.message().starts_with("malformed JSON"),
        "{}",
        reply.message()
    );
    app.stop().await
}

async fn wrong_content_type_is_415(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let res = app
        .client
        .post(app.url("/ping"))
        .header("content-type", "text/plain")
        .body("{\"name\":\"World\"}")
        .send()
        .await?;
    let reply = TestApp::read(res).await?;
    assert_eq!(reply.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(reply.code(), "invalid_argument");
    assert!(reply.message().contains("application/json"));
    app.stop().await
}

async fn oversized_body_is_413(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let big = json!({ "name": "a".repeat(1024 * 1024 + 1) });
    let reply = app.post("/ping", big).await?;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(reply.code(), "invalid_argument");
    assert_eq!(reply.message(), "request body is too large");
    app.stop().await
}

async fn unknown_routes_and_methods_answer_in_the_error_shape(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let reply = app.get("/no/such/thing", None).await?;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(reply.code(), "not_found");
    let reply = app.call(Method::DELETE, "/ping", None, None).await?;
    assert_eq!(reply.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(reply.code(), "unimplemented");
    app.stop().await
}

async fn request_ids_are_echoed_or_made(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let res = app
        .client
        .post(app.url("/ping"))
        .header("x-request-id", "client-id-42")
        .json(&json!({ "name": "x" }))
        .send()
        .await?;
    assert_eq!(res.headers()["x-request-id"], "client-id-42");
    let made = app.post("/ping", json!({ "name": "x" })).await?;
    let id = made.header("x-request-id").unwrap_or_default();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let res = app
        .client
        .post(app.url("/ping"))
        .header("x-request-id", "has spaces and is not taken")
        .json(&json!({ "name": "x" }))
        .send()
        .await?;
    assert_ne!(res.headers()["x-request-id"], "has spaces and is not taken");
    app.stop().await
}

async fn security_headers_are_set(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let reply = app.get("/healthz", None).await?;
    assert_eq!(
        reply.header("x-content-type-options").as_deref(),
        Some("nosniff")
    );
    assert_eq!(reply.header("x-frame-options").as_deref(), Some("DENY"));
    assert_eq!(
        reply.header("referrer-policy").as_deref(),
        Some("no-referrer")
    );
    assert!(reply.header("content-security-policy").is_some());
    app.stop().await
}

async fn cors_allows_only_configured_origins(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.http.cors_origins = vec!["https://app.kitemate.test".into()];
    })
    .await?;
    let preflight = |origin: &'static str| {
        app.client
            .request(Method::OPTIONS, app.url("/auth/me"))
            .header("origin", origin)
            .header("access-control-request-method", "GET")
            .header("access-control-request-headers", "authorization")
            .send()
    };
    let ok = preflight("https://app.kitemate.test").await?;
    assert_eq!(
        ok.headers()["access-control-allow-origin"],
        "https://app.kitemate.test"
    );
    let evil = preflight("https://evil.example").await?;
    assert!(evil.headers().get("access-control-allow-origin").is_none());
    app.stop().await
}

async fn cors_allows_nothing_by_default(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let res = app
        .client
        .get(app.url("/healthz"))
        .header("origin", "https://app.kitemate.test")
        .send()
        .await?;
    assert!(res.headers().get("access-control-allow-origin").is_none());
    app.stop().await
}

async fn public_endpoints_are_rate_limited_per_ip(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.rate_limit.per_ip_per_minute = 2;
        c.rate_limit.burst = 3;
    })
    .await?;
    for _ in 0..3 {
        let reply = app.post("/ping", json!({ "name": "x" })).await?;
        assert_eq!(reply.status, StatusCode::OK);
    }
    let reply = app.post("/ping", json!({ "name": "x" })).await?;
    assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(reply.code(), "resource_exhausted");
    let wait: u64 = reply.header("retry-after").unwrap_or_default().parse()?;
    assert!((1..=30).contains(&wait), "Retry-After {wait}");
    // Every public route shares the address's allowance, health checks too
    // (a probe every few seconds is far under it).
    assert_eq!(
        app.get("/healthz", None).await?.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    app.stop().await
}

crate::both_backends!(
    ping_says_hello,
    bad_json_is_a_400_naming_the_field,
    wrong_content_type_is_415,
    oversized_body_is_413,
    unknown_routes_and_methods_answer_in_the_error_shape,
    request_ids_are_echoed_or_made,
    security_headers_are_set,
    cors_allows_only_configured_origins,
    cors_allows_nothing_by_default,
    public_endpoints_are_rate_limited_per_ip,
);
