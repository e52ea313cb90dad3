//! Health, readiness, metrics, graceful shutdown.

use std::time::Duration;

use axum::Router;
use axum::routing::get;
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Kind, TestApp, TestResult, serve_until_told};

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
    assert_eq!(ready.message(), "not ready: a database does not answer");
    assert!(!ready.text.contains("auth") && !ready.text.contains("127.0.0.1"));
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
    // Methods a client makes up are counted as OTHER, however many.
    for method in ["PROBEA", "PROBEB", &"X".repeat(8_000)] {
        let odd = reqwest::Method::from_bytes(method.as_bytes())?;
        app.call(odd, "/auth/me", None, None).await?;
    }
    let text = app.metrics().await?;
    assert!(!text.contains("PROBE") && !text.contains("XXXX"), "{text}");
    assert!(text.contains(r#"method="OTHER""#), "{text}");
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

/// `/metrics` on the main listener shows business figures: it is there only
/// for the bearer of the metrics token, and not at all without one.
#[tokio::test]
async fn metrics_on_the_public_listener_need_the_token() -> TestResult {
    let app = TestApp::spawn(Kind::Sqlite).await?;
    let hidden = app.get("/metrics", None).await?;
    assert_eq!(
        (hidden.status, hidden.code().as_str()),
        (StatusCode::NOT_FOUND, "not_found")
    );
    app.stop().await?;

    const TOKEN: &str = "metrics-token-SECRET-789";
    let app = TestApp::spawn_with(Kind::Sqlite, |c| {
        let secrets = c.data_dir.join("metrics.env");
        let _ = std::fs::create_dir_all(&c.data_dir);
        let _ = std::fs::write(&secrets, format!("KITEMATE_METRICS_TOKEN={TOKEN}\n"));
        c.secrets_file = Some(secrets);
        c.metrics_listen = None;
    })
    .await?;
    assert!(app.metrics().await.is_err(), "no private listener");
    for wrong in [None, Some("nope"), Some("metrics-token-SECRET-78")] {
        let reply = app.get("/metrics", wrong).await?;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{wrong:?}");
    }
    let reply = app.get("/metrics", Some(TOKEN)).await?;
    assert_eq!(reply.status, StatusCode::OK);
    assert!(reply.text.contains("kitemate_http_requests_total"));
    app.stop().await
}

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

/// In production (behind TLS) browsers are told to use HTTPS only; in
/// development, where the app is plain HTTP on localhost, they are not.
#[tokio::test]
async fn production_answers_carry_hsts() -> TestResult {
    let dev = TestApp::spawn(Kind::Sqlite).await?;
    assert!(
        dev.get("/healthz", None)
            .await?
            .header("strict-transport-security")
            .is_none()
    );
    dev.stop().await?;
    let app = TestApp::spawn_with(Kind::Sqlite, |c| {
        use base64::Engine as _;
        let key = base64::engine::general_purpose::STANDARD.encode([7u8; 32]);
        let secrets = c.data_dir.join("production.env");
        let _ = std::fs::create_dir_all(&c.data_dir);
        let _ = std::fs::write(
            &secrets,
            format!("KITEMATE_ENCRYPTION_KEY={key}\nKITEMATE_OBJECT_SIGNING_KEY=signing-key-of-this-test-32-bytes-long\n"),
        );
        c.secrets_file = Some(secrets);
        c.mode = kitemate::config::Mode::Production;
    })
    .await?;
    for path in ["/healthz", "/no/such/route"] {
        let reply = app.get(path, None).await?;
        assert_eq!(
            reply.header("strict-transport-security").as_deref(),
            Some("max-age=31536000; includeSubDomains"),
            "{path}"
        );
    }
    app.stop().await
}

/// Database files, their WAL files, keys made in development and stored
/// imports are readable by their owner only.
#[cfg(unix)]
#[tokio::test]
async fn data_files_are_private() -> TestResult {
    use std::os::unix::fs::PermissionsExt as _;
    let app = TestApp::spawn(Kind::Sqlite).await?;
    let asha = app.signup("asha").await?;
    let upload = crate::portfolio::imports::upload(
        &app,
        &asha,
        "",
        "text/csv",
        b"Instrument,Qty.,Avg. cost,LTP\nINFY,1,10,10\n".to_vec(),
    )
    .await?;
    assert_eq!(upload.status, StatusCode::OK);
    let mut checked = Vec::new();
    let mut pending = vec![app.dir.path().to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir)? {
            let entry = entry?;
            let mode = entry.metadata()?.permissions().mode() & 0o777;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                assert_eq!(mode & 0o077, 0, "{} is {mode:o}", path.display());
                pending.push(path);
                continue;
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            if name.ends_with(".db")
                || name.ends_with("-wal")
                || name.ends_with("-shm")
                || path
                    .components()
                    .any(|c| c.as_os_str() == "keys" || c.as_os_str() == "objects")
            {
                assert_eq!(mode, 0o600, "{} is {mode:o}", path.display());
                checked.push(name);
            }
        }
    }
    assert!(checked.iter().any(|n| n == "auth.db"), "{checked:?}");
    assert!(checked.iter().any(|n| n.ends_with("-wal")), "{checked:?}");
    assert!(checked.iter().any(|n| n.ends_with(".key")), "{checked:?}");
    assert!(checked.len() >= 8, "{checked:?}");
    app.stop().await
}
