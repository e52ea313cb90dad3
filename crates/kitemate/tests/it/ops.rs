//! Health, readiness, metrics, graceful shutdown.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::{Kind, TestApp, TestResult, serve_until_told};

async fn health_and_readiness(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let health = app.get("/healthz", None).await?;
    assert_eq!(
        (health.status, health.json()),
        (StatusCode::OK, json!({ "status": "ok" }))
    );
    assert_eq!(app.get("/readyz", None).await?.status, StatusCode::OK);
    // A database that stops answering makes the app unready.
    for db in app.app.databases() {
        db.close().await;
    }
    let ready = app.get("/readyz", None).await?;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.code(), "unavailable");
    assert_eq!(ready.message(), "database auth does not answer");
    app.stop().await
}

async fn metrics_count_requests_by_route_template(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let token = app.signup("asha").await?;
    app.get("/auth/me", Some(&token)).await?;
    app.get("/auth/me", None).await?;
    app.call(
        reqwest::Method::DELETE,
        "/auth/sessions/some-id",
        None,
        Some(&token),
    )
    .await?;
    let metrics = app.get("/metrics", None).await?;
    assert_eq!(metrics.status, StatusCode::OK);
    let text = metrics.text;
    assert!(
        text.contains(
            r#"kitemate_http_requests_total{method="GET",route="/auth/me",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(
            r#"kitemate_http_requests_total{method="GET",route="/auth/me",status="401"} 1"#
        )
    );
    assert!(
        text.contains(r#"route="/auth/sessions/{id}",status="404"} 1"#),
        "templates, not raw paths"
    );
    assert!(text.contains("kitemate_http_request_duration_seconds_bucket"));
    app.stop().await
}

crate::both_backends!(
    health_and_readiness,
    metrics_count_requests_by_route_template
);

#[tokio::test]
async fn shutdown_lets_in_flight_requests_finish() -> TestResult {
    let router = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (tx, server) = serve_until_told(listener, router);
    let request = tokio::spawn(reqwest::get(format!("http://{addr}/slow")));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let _ = tx.send(());
    let response = request.await??;
    assert_eq!(response.text().await?, "done");
    server.await??;
    // Once drained, the server takes no new connections.
    assert!(reqwest::get(format!("http://{addr}/slow")).await.is_err());
    Ok(())
}
