//! How clients become known: dynamic registration with its checks, and
//! Client ID Metadata Documents fetched with SSRF guards (no private
//! addresses, no redirects, size and time limits), served here by a small
//! fake of a client's website.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::routing::get;
use reqwest::StatusCode;
use serde_json::{Value, json};

use super::{Authorization, REDIRECT, param};
use crate::support::{Kind, TestApp, TestResult, serve_until_told};

async fn registrations_are_checked_field_by_field(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    for (body, error, names) in [
        (
            json!({ "redirect_uris": [] }),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({ "redirect_uris": ["http://attacker.example/cb"] }),
            "invalid_redirect_uri",
            "loopback",
        ),
        (
            json!({ "redirect_uris": ["https://app.example/cb#frag"] }),
            "invalid_redirect_uri",
            "fragment",
        ),
        (
            json!({ "redirect_uris": ["not a uri"] }),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({ "redirect_uris": vec!["https://app.example/cb"; 11] }),
            "invalid_redirect_uri",
            "redirect_uris",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_basic" }),
            "invalid_client_metadata",
            "token_endpoint_auth_method",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "client_name": "n".repeat(101) }),
            "invalid_client_metadata",
            "client_name",
        ),
        (
            json!([null, null]),
            "invalid_client_metadata",
            "JSON object",
        ),
        (
            json!({ "client_name": "no redirect" }),
            "invalid_client_metadata",
            "redirect_uris",
        ),
        (
            json!({ "redirect_uris": [REDIRECT], "grant_types": ["client_credentials"] }),
            "invalid_client_metadata",
            "grant_types",
        ),
    ] {
        let reply = app.post("/oauth/register", body.clone()).await?;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}: {reply:?}");
        assert_eq!(reply.json()["error"], error, "{body}: {reply:?}");
        let said = reply.json()["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(said.contains(names), "{body}: {said}");
    }
    // What is accepted: https, loopback http on any port, an app's own scheme.
    let ok = app
        .post(
            "/oauth/register",
            json!({ "client_name": "Desk <b>app</b>", "redirect_uris": ["https://app.example/cb", REDIRECT, "com.example.app:/oauth"] }),
        )
        .await?;
    assert_eq!(ok.status, StatusCode::CREATED, "{ok:?}");
    let reg = ok.json();
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert!(
        reg.get("client_secret").is_none(),
        "public clients get no secret"
    );
    // The consent page escapes the name it was given.
    let auth = Authorization::new(
        reg["client_id"].as_str().unwrap_or_default(),
        "portfolio:read",
    );
    let (page, _) = auth.open(&app).await?;
    assert!(
        page.text.contains("Desk &lt;b&gt;app&lt;/b&gt;") && !page.text.contains("<b>app</b>"),
        "{}",
        page.text
    );
    app.stop().await
}

async fn registration_is_rate_limited_per_address(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| {
        c.mcp.registrations_per_minute = 1;
        c.mcp.registration_burst = 2;
        c.mcp.authorize_posts_per_minute = 2;
    })
    .await?;
    // The authorize page and its forms (guessing passwords) too.
    let page = || async {
        let res = super::browser()?
            .post(app.url("/oauth/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body("step=sign_in&email=a%40example.com&password=guess")
            .send()
            .await?;
        anyhow::Ok(res.status())
    };
    assert_eq!(page().await?, StatusCode::FORBIDDEN, "no cookie");
    assert_eq!(page().await?, StatusCode::FORBIDDEN);
    assert_eq!(page().await?, StatusCode::TOO_MANY_REQUESTS);
    let body = json!({ "redirect_uris": [REDIRECT] });
    for _ in 0..2 {
        assert_eq!(
            app.post("/oauth/register", body.clone()).await?.status,
            StatusCode::CREATED
        );
    }
    let limited = app.post("/oauth/register", body).await?;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{limited:?}");
    assert!(limited.header("retry-after").is_some());
    app.stop().await
}

/// A client's website: its metadata document, and the ways a hostile one
/// could misbehave. Counts the requests it gets.
struct Site {
    url: String,
    hits: Arc<AtomicUsize>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn site() -> anyhow::Result<Site> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let hits = Arc::new(AtomicUsize::new(0));
    let base = url.clone();
    let doc = move |path: &str, name: &str| {
        json!({
            "client_id": format!("{base}{path}"),
            "client_name": name,
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
        })
    };
    let good = doc("/client.json", "Claude");
    let mismatched = doc("/elsewhere.json", "Impostor");
    let big =
        json!({ "client_id": "", "client_name": "x".repeat(6000), "redirect_uris": [REDIRECT] });
    let count = |hits: Arc<AtomicUsize>| {
        axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::SeqCst);
                    next.run(req).await
                }
            },
        )
    };
    let router = axum::Router::new()
        .route("/client.json", get(move || async move { axum::Json(good) }))
        .route(
            "/mismatched.json",
            get(move || async move { axum::Json(mismatched) }),
        )
        .route("/big.json", get(move || async move { axum::Json(big) }))
        .route(
            "/moved.json",
            get(|| async { axum::response::Redirect::temporary("/client.json") }),
        )
        .route(
            "/slow.json",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(6)).await;
                "{}"
            }),
        )
        .route("/not-json.json", get(|| async { "<html>hello</html>" }))
        .layer(count(hits.clone()));
    let (stop, _server) = serve_until_told(listener, router);
    Ok(Site {
        url,
        hits,
        _stop: stop,
    })
}

/// The authorize page for client `client_id`, with no registration.
async fn authorize_as(app: &TestApp, client_id: &str) -> anyhow::Result<crate::support::Reply> {
    let auth = Authorization::new(client_id, "portfolio:read");
    Ok(auth.open(app).await?.0)
}

async fn metadata_documents_are_fetched_with_guards(kind: Kind) -> TestResult {
    let site = site().await?;
    // Production: loopback, private and plain-HTTP documents are never fetched.
    let strict = TestApp::spawn(kind.clone()).await?;
    for client_id in [
        format!("{}/client.json", site.url),
        format!("{}/client.json", site.url.replace("http://", "https://")),
        "https://10.0.0.1/client.json".to_string(),
        "https://169.254.169.254/latest/meta-data".to_string(),
        "https://[::1]/client.json".to_string(),
        "https://localhost/client.json".to_string(),
    ] {
        let page = authorize_as(&strict, &client_id).await?;
        assert_eq!(
            page.status,
            StatusCode::BAD_REQUEST,
            "{client_id}: {page:?}"
        );
        assert!(page.header("location").is_none());
    }
    assert_eq!(
        site.hits.load(Ordering::SeqCst),
        0,
        "nothing reached the private address"
    );
    strict.stop().await?;

    // Where loopback is allowed (local development), the document names
    // the client; a hostile document is refused however it misbehaves.
    let app = TestApp::spawn_with(kind, |c| c.mcp.metadata_from_loopback = true).await?;
    app.signup("asha").await?;
    for path in [
        "/mismatched.json",
        "/big.json",
        "/moved.json",
        "/slow.json",
        "/not-json.json",
        "/missing.json",
    ] {
        let page = authorize_as(&app, &format!("{}{path}", site.url)).await?;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}: {page:?}");
    }
    let client_id = format!("{}/client.json", site.url);
    let auth = Authorization::new(&client_id, "portfolio:read");
    let (page, _) = auth.open(&app).await?;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(
        page.text.contains("Claude") && page.text.contains(&client_id),
        "{}",
        page.text
    );
    let back = auth.approve(&app, "asha@example.com", "allow").await?;
    assert!(param(&back, "code").is_some());
    let tokens = auth.exchange(&app, &back).await?;
    assert_eq!(tokens.status, StatusCode::OK, "{tokens:?}");
    let apps: Value = app
        .get("/connected-apps", Some(&app.signup("ravi").await?))
        .await?
        .json();
    assert_eq!(apps["apps"], json!([]));
    app.stop().await
}

crate::both_backends!(
    registrations_are_checked_field_by_field,
    registration_is_rate_limited_per_address,
    metadata_documents_are_fetched_with_guards,
);
