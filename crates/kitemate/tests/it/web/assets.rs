//! The web app's built files (`web/build`): the shell at every app path
//! with a strict CSP, hashed files cached for good in the encoding the
//! browser takes, everything else revalidated.

use reqwest::StatusCode;
use reqwest::header::{ACCEPT_ENCODING, IF_NONE_MATCH};

use crate::support::{Kind, TestApp, TestResult};

/// The shell, or a failure saying how to build it (never a silent skip).
async fn shell(app: &TestApp, path: &str) -> anyhow::Result<crate::support::Reply> {
    let page = app.get(path, None).await?;
    anyhow::ensure!(
        page.status == StatusCode::OK,
        "{path}: {} — is web/build missing? Build the app first: npm --prefix web ci && npm --prefix web run build",
        page.status
    );
    Ok(page)
}

#[tokio::test]
async fn every_app_path_is_the_shell_under_a_policy_that_allows_only_its_boot_script() -> TestResult
{
    let app = TestApp::spawn(Kind::Sqlite).await?;
    for path in [
        "/",
        "/app",
        "/app/holdings",
        "/app/dashboards/0192-anything",
    ] {
        let page = shell(&app, path).await?;
        assert!(page.text.contains("<div id=\"app\">"), "{path}");
        assert_eq!(
            page.header("cache-control").as_deref(),
            Some("no-cache"),
            "{path}"
        );
        let policy = page.header("content-security-policy").unwrap_or_default();
        assert!(policy.contains("script-src 'self' 'sha256-"), "{policy}");
        assert!(
            !policy.contains("unsafe-inline") && !policy.contains("unsafe-eval"),
            "{policy}"
        );
        // Style attributes only by the hashes of the app's own templates.
        let style = policy
            .split(';')
            .find(|d| d.trim().starts_with("style-src"))
            .unwrap_or_default();
        assert!(
            style
                .split_whitespace()
                .skip(1)
                .all(|s| s == "'self'" || s == "'unsafe-hashes'" || s.starts_with("'sha256-")),
            "{style}"
        );
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(policy.contains("connect-src 'self'"), "{policy}");
        assert_eq!(page.header("x-frame-options").as_deref(), Some("DENY"));
    }
    // An API path is still the API's.
    let missing = app.get("/no/such/endpoint", None).await?;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(missing.code(), "not_found");
    app.stop().await
}

#[tokio::test]
async fn hashed_files_are_immutable_compressed_and_revalidated_by_etag() -> TestResult {
    let app = TestApp::spawn(Kind::Sqlite).await?;
    let page = shell(&app, "/app").await?;
    // The largest script the shell names (compression pays on it).
    let mut script = String::new();
    let mut largest = 0;
    for name in page
        .text
        .split('"')
        .filter(|s| s.starts_with("/_app/immutable/") && s.ends_with(".js"))
    {
        let size = app
            .client
            .get(app.url(name))
            .send()
            .await?
            .bytes()
            .await?
            .len();
        if size > largest {
            (script, largest) = (name.to_string(), size);
        }
    }
    assert!(largest > 0, "the shell names its scripts");

    let plain = app.client.get(app.url(&script)).send().await?;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(
        plain.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(
        plain.headers()["content-type"]
            .to_str()?
            .starts_with("text/javascript")
    );
    assert!(plain.headers().get("content-encoding").is_none());
    let body = plain.bytes().await?;

    // A client that decodes nothing: what it reads is what was sent.
    let raw = reqwest::Client::builder().no_gzip().build()?;
    let br = raw
        .get(app.url(&script))
        .header(ACCEPT_ENCODING, "gzip, br")
        .send()
        .await?;
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "Accept-Encoding");
    let etag = br.headers()["etag"].to_str()?.to_string();
    assert!(br.bytes().await?.len() < body.len());
    let gz = raw
        .get(app.url(&script))
        .header(ACCEPT_ENCODING, "gzip")
        .send()
        .await?;
    assert_eq!(gz.headers()["content-encoding"], "gzip");
    assert_ne!(
        gz.headers()["etag"].to_str()?,
        etag,
        "each encoding has its own tag"
    );

    let again = raw
        .get(app.url(&script))
        .header(ACCEPT_ENCODING, "gzip, br")
        .header(IF_NONE_MATCH, &etag)
        .send()
        .await?;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(again.bytes().await?.is_empty());
    // A weak tag (as a proxy may rewrite it) and `*` match too; another does not.
    for (tag, status) in [
        (format!("W/{etag}"), StatusCode::NOT_MODIFIED),
        ("*".to_string(), StatusCode::NOT_MODIFIED),
        ("\"other\"".to_string(), StatusCode::OK),
    ] {
        let res = raw
            .get(app.url(&script))
            .header(ACCEPT_ENCODING, "gzip, br")
            .header(IF_NONE_MATCH, &tag)
            .send()
            .await?;
        assert_eq!(res.status(), status, "{tag}");
    }

    // The twins are never served by their own names, and nothing else is there.
    for path in [
        format!("{script}.br"),
        "/_app/immutable/nothing.js".into(),
        "/_app/../Cargo.toml".into(),
    ] {
        let res = app.get(&path, None).await?;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
    }
    // Outside the hashed folder, a file is revalidated.
    let version = app.get("/_app/version.json", None).await?;
    assert_eq!(version.status, StatusCode::OK);
    assert_eq!(version.header("cache-control").as_deref(), Some("no-cache"));
    app.stop().await
}
