//! The public pages: a shared widget at its share link, a profile at
//! `/u/{username}`, discovery at `/discover`. A browser gets HTML with
//! OpenGraph tags and no amounts; an API client gets JSON at the same URL;
//! everything a user or a file wrote is escaped.

use reqwest::header::ACCEPT;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::chat::answers::with_trades;
use crate::support::{Kind, Reply, TestApp, TestResult};
use crate::widgets::crud::{TRADEBOOK, call, create};

const BROWSER: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

async fn page(app: &TestApp, path: &str) -> anyhow::Result<Reply> {
    let res = app
        .client
        .get(app.url(path))
        .header(ACCEPT, BROWSER)
        .send()
        .await?;
    TestApp::read(res).await
}

/// The `content` of `<meta property="{property}">`.
fn meta(html: &str, property: &str) -> Option<String> {
    let at = html.find(&format!("property=\"{property}\" content=\""))?;
    let rest = &html[at..];
    let start = rest.find("content=\"")? + 9;
    Some(rest[start..start + rest[start..].find('"')?].to_string())
}

fn path_of(url: &str) -> String {
    url.find("/shared/")
        .map_or(String::new(), |at| url[at..].to_string())
}

async fn a_share_link_is_a_page_for_browsers_and_json_for_clients(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| c.rate_limit.enabled = false).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let title = "<b>\"Banks\" & co</b>";
    let made = create(
        &app,
        &asha,
        json!({ "title": title, "description": "Mine <script>alert(1)</script>", "kind": "table",
                "source": { "type": "holdings", "sort": "value" }, "visibility": "unlisted" }),
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let widget = made.json();
    let share_url = widget["shareUrl"].as_str().unwrap_or_default().to_string();
    let path = path_of(&share_url);

    let html = page(&app, &path).await?;
    assert_eq!(html.status, StatusCode::OK, "{html:?}");
    assert!(
        html.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert_eq!(html.header("vary").as_deref(), Some("Accept"));
    assert_eq!(html.header("cache-control").as_deref(), Some("no-cache"));
    let policy = html.header("content-security-policy").unwrap_or_default();
    assert!(
        policy.starts_with("default-src 'none'") && !policy.contains("script-src"),
        "{policy}"
    );
    let text = &html.text;
    let escaped = "&lt;b&gt;&quot;Banks&quot; &amp; co&lt;/b&gt;";
    assert_eq!(meta(text, "og:title").as_deref(), Some(escaped));
    assert_eq!(
        meta(text, "og:image"),
        Some(format!("{share_url}/card.png"))
    );
    assert_eq!(meta(text, "og:url").as_deref(), Some(share_url.as_str()));
    assert!(text.contains("summary_large_image"));
    // Unlisted: for whoever has the link, not for search engines.
    assert!(text.contains("<meta name=\"robots\" content=\"noindex\">"));
    assert!(policy.contains("img-src 'self' http://"), "{policy}");
    assert!(
        !text.contains("<b>") && !text.contains("<script>"),
        "user text is escaped"
    );
    assert!(text.contains("Mine &lt;script&gt;alert(1)&lt;/script&gt;"));
    // The figures: drawn, and again as a table, with no amounts (hidden by default).
    assert!(text.contains("<svg"));
    assert!(text.contains("<th scope=\"col\">Symbol</th>"));
    assert!(text.contains("<td>INFY</td>"));
    assert!(
        !text.contains('₹'),
        "no amount on a page with hidden amounts"
    );
    assert!(text.contains("Amounts and quantities are hidden by the owner."));
    // Forking carries the link's secret in the fragment only.
    let token = path.rsplit('/').next().unwrap_or_default();
    let id = widget["id"].as_str().unwrap_or_default();
    assert!(text.contains(&format!("href=\"/app/fork/{id}#token={token}\"")));

    // The same URL, asked by an API client, is the JSON it always was.
    for accept in [
        None,
        Some("application/json"),
        Some("*/*"),
        Some("application/json, text/html"),
    ] {
        let mut req = app.client.get(app.url(&path));
        if let Some(accept) = accept {
            req = req.header(ACCEPT, accept);
        }
        let json = TestApp::read(req.send().await?).await?;
        assert_eq!(json.status, StatusCode::OK, "{accept:?}");
        assert_eq!(json.json()["title"], title, "{accept:?}");
        assert_eq!(json.header("vary").as_deref(), Some("Accept"));
    }

    // Revoked: the browser gets a page saying so, with the status.
    let revoked = call(
        &app,
        Method::DELETE,
        &format!("/widgets/{id}/share"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(revoked.status, StatusCode::OK);
    let gone = page(&app, &path).await?;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert!(gone.text.contains("<h1>Not found</h1>"), "{}", gone.text);
    app.stop().await
}

async fn profiles_and_discovery_are_pages_with_previews(kind: Kind) -> TestResult {
    let app = TestApp::spawn_with(kind, |c| c.rate_limit.enabled = false).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let changed = call(
        &app,
        Method::PATCH,
        "/profiles/me",
        Some(json!({ "displayName": "Asha <Rao>", "bio": "Long-term & patient" })),
        &asha,
    )
    .await?;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let made = create(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "source": { "type": "allocation", "by": "sector" },
                "visibility": "public", "tags": ["sectors"] }),
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED, "{made:?}");
    let card = made.json()["shareUrl"]
        .as_str()
        .map(|u| format!("{u}/card.png"))
        .unwrap_or_default();

    let profile = page(&app, "/u/asha").await?;
    assert_eq!(profile.status, StatusCode::OK, "{profile:?}");
    assert_eq!(
        meta(&profile.text, "og:title").as_deref(),
        Some("Asha &lt;Rao&gt;")
    );
    assert_eq!(
        meta(&profile.text, "og:description").as_deref(),
        Some("Long-term &amp; patient")
    );
    // No picture: the newest widget's card is the preview.
    assert_eq!(meta(&profile.text, "og:image"), Some(card.clone()));
    assert!(profile.text.contains("<strong>Sectors</strong>"));
    assert!(!profile.text.contains("noindex"));
    // Any case finds them; an API client gets the profile's JSON.
    let json = app.get("/u/ASHA", None).await?;
    assert_eq!(json.status, StatusCode::OK);
    assert_eq!(json.json()["displayName"], "Asha <Rao>");
    assert_eq!(json.json()["widgets"]["widgets"][0]["title"], "Sectors");
    let nobody = page(&app, "/u/nobody").await?;
    assert_eq!(nobody.status, StatusCode::NOT_FOUND);
    assert!(nobody.text.contains("no such profile"));

    let discover = page(&app, "/discover").await?;
    assert_eq!(discover.status, StatusCode::OK);
    assert_eq!(meta(&discover.text, "og:image"), Some(card));
    assert!(discover.text.contains("<strong>Sectors</strong>"));
    let searched = page(&app, "/discover?q=%3Cscript%3Ex").await?;
    assert_eq!(searched.status, StatusCode::OK);
    assert!(searched.text.contains("value=\"&lt;script&gt;x\""));
    assert!(searched.text.contains("No public widgets yet."));
    let listed: Value = app.get("/discover", None).await?.json();
    let same: Value = app.get("/discover/widgets", None).await?.json();
    assert_eq!(listed, same);
    // A person's link: an empty search and a tracker's parameter are no error;
    // a wrong value is, as a page saying why.
    let lenient = page(&app, "/discover?q=&fbclid=abc&utm_source=x").await?;
    assert_eq!(lenient.status, StatusCode::OK, "{lenient:?}");
    assert!(lenient.text.contains("<strong>Sectors</strong>"));
    let bad = page(&app, "/discover?limit=0").await?;
    assert_eq!(bad.status, StatusCode::BAD_REQUEST);
    assert!(bad.text.contains("limit"), "{}", bad.text);
    assert!(
        bad.header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    // An API client is held to the parameters.
    let strict = app.get("/discover?fbclid=abc", None).await?;
    assert_eq!(strict.status, StatusCode::BAD_REQUEST);
    assert_eq!(strict.json()["details"]["field"], "fbclid");
    // A link preview that asks for anything gets the page.
    let preview = app
        .client
        .get(app.url("/u/asha"))
        .header(ACCEPT, "*/*")
        .header("user-agent", "facebookexternalhit/1.1")
        .send()
        .await?;
    let preview = TestApp::read(preview).await?;
    assert!(
        preview
            .header("content-type")
            .unwrap_or_default()
            .starts_with("text/html")
    );
    assert!(preview.text.contains("og:title"));
    app.stop().await
}

crate::both_backends!(
    a_share_link_is_a_page_for_browsers_and_json_for_clients,
    profiles_and_discovery_are_pages_with_previews,
);
