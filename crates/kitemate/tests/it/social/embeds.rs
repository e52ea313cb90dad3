//! Embeds through HTTP on both backends: a signed page other sites may
//! frame (and nothing else may be), its chart without amounts, dead once
//! it expires, the share link is rotated, or the widget is hidden.

use chrono::TimeDelta;
use reqwest::{Method, StatusCode};
use serde_json::json;

use super::forks::made;
use crate::chat::answers::with_trades;
use crate::support::{Kind, Reply, TestApp, TestResult};
use crate::widgets::crud::{TRADEBOOK, call, starter};

/// The path of an absolute URL of the app's.
fn path_of(url: &str) -> String {
    url.find("/embed/")
        .map_or_else(|| url.to_string(), |at| url[at..].to_string())
}

async fn embed(
    app: &TestApp,
    token: &str,
    id: &str,
    body: Option<serde_json::Value>,
) -> anyhow::Result<Reply> {
    app.call(
        Method::POST,
        &format!("/widgets/{id}/embed"),
        body,
        Some(token),
    )
    .await
}

async fn embeds_are_signed_frameable_and_die_with_their_link(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    starter(&app, &asha).await?;
    let widget = made(
        &app,
        &asha,
        json!({ "title": "My <b>sectors</b>", "kind": "pie", "visibility": "unlisted",
            "description": "Weights & more",
            "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    let id = widget["id"].as_str().unwrap_or_default();
    let made = embed(&app, &asha, id, Some(json!({ "expiresInDays": 1 }))).await?;
    assert_eq!(made.status, StatusCode::OK, "{made:?}");
    let link = made.json();
    assert!(link["expiresAt"].is_string(), "{link}");
    let page_path = path_of(link["embedUrl"].as_str().unwrap_or_default());
    let page = app.get(&page_path, None).await?;
    assert_eq!(page.status, StatusCode::OK, "{page:?}");
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    let csp = page.header("content-security-policy").unwrap_or_default();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(csp.contains("default-src 'none'"), "{csp}");
    assert!(
        page.header("x-frame-options").is_none(),
        "framing allowed here"
    );
    assert!(page.text.contains("<svg"), "{}", page.text);
    assert!(
        page.text.contains("My &lt;b&gt;sectors&lt;/b&gt;"),
        "escaped title"
    );
    assert!(
        !page.text.contains("<b>sectors"),
        "no markup from the title"
    );
    assert!(page.text.contains("Weights &amp; more"));
    assert!(page.text.contains("@asha on KiteMate"));
    let summary = app.get("/portfolio/summary", Some(&asha)).await?.json();
    let value = summary["valuePaise"].to_string();
    assert!(!page.text.contains("Paise") && !page.text.contains(&value));
    let chart = app.get(&format!("{page_path}/chart.svg"), None).await?;
    assert_eq!(chart.status, StatusCode::OK);
    assert!(chart.text.starts_with("<svg"), "{}", chart.text);
    assert!(chart.header("x-frame-options").is_none());
    // Everything else still refuses to be framed.
    let shared = app
        .get(
            &format!("/shared/widgets/{}", super::forks::token_of(&widget)),
            None,
        )
        .await?;
    assert_eq!(shared.header("x-frame-options").as_deref(), Some("DENY"));

    // A forged expiry breaks the signature.
    let token = page_path.trim_start_matches("/embed/widgets/");
    let mut parts: Vec<&str> = token.split('.').collect();
    let later = "253402300799";
    parts[1] = later;
    let forged = app
        .get(&format!("/embed/widgets/{}", parts.join(".")), None)
        .await?;
    assert_eq!(forged.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.get("/embed/widgets/nonsense", None).await?.status,
        StatusCode::NOT_FOUND
    );

    // It expires; one without expiry lives on, until the share link is
    // rotated.
    let forever = embed(&app, &asha, id, None).await?.json();
    assert!(forever.get("expiresAt").is_none(), "{forever}");
    let forever_path = path_of(forever["embedUrl"].as_str().unwrap_or_default());
    app.clock.advance(TimeDelta::days(2));
    let expired = app.get(&page_path, None).await?;
    assert_eq!(expired.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&forever_path, None).await?.status, StatusCode::OK);
    let rotated = call(
        &app,
        Method::POST,
        &format!("/widgets/{id}/share"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(rotated.status, StatusCode::OK);
    assert_eq!(
        app.get(&forever_path, None).await?.status,
        StatusCode::NOT_FOUND,
        "rotating the share link kills its embeds"
    );

    // Private widgets cannot be embedded; nor others' widgets.
    let private = made_private(&app, &asha).await?;
    let refused = embed(&app, &asha, &private, None).await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST);
    assert_eq!(refused.code(), "failed_precondition");
    let ravi = app.signup("ravi").await?;
    assert_eq!(
        embed(&app, &ravi, id, None).await?.status,
        StatusCode::NOT_FOUND
    );
    let bad = embed(&app, &asha, id, Some(json!({ "expiresInDays": 0 }))).await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    app.stop().await
}

async fn made_private(app: &TestApp, token: &str) -> anyhow::Result<String> {
    let widget = made(
        app,
        token,
        json!({ "title": "Mine", "kind": "table", "source": { "type": "holdings" } }),
    )
    .await?;
    Ok(widget["id"].as_str().unwrap_or_default().to_string())
}

crate::both_backends!(embeds_are_signed_frameable_and_die_with_their_link);
