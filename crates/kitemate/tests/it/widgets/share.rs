//! Share links: opened without signing in, rotated and revoked by the
//! owner, and no amount of the owner's in anything another viewer gets.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use super::crud::{TRADEBOOK, call, create, pro};
use crate::chat::answers::with_trades;
use crate::support::{Kind, TestApp, TestResult};

/// The path of a share URL, for the test server.
fn path_of(share_url: &Value) -> String {
    let url = share_url.as_str().unwrap_or_default();
    url.find("/shared/")
        .map_or(String::new(), |at| url[at..].to_string())
}

/// Every money figure and quantity in the owner's data, as JSON text.
fn amounts(data: &Value) -> Vec<String> {
    let columns = data["columns"].as_array().cloned().unwrap_or_default();
    let hidden: Vec<&str> = columns
        .iter()
        .filter(|c| matches!(c["format"].as_str(), Some("money" | "quantity")))
        .filter_map(|c| c["key"].as_str())
        .collect();
    let mut out = Vec::new();
    for row in data["rows"].as_array().cloned().unwrap_or_default() {
        for key in &hidden {
            let value = &row[*key];
            // Small numbers (a quantity of 7) occur in dates and
            // percentages anyway; their keys are checked instead.
            if value.as_i64().is_some_and(|n| n.abs() >= 1000)
                || value.as_str().is_some_and(|s| s.len() >= 3)
            {
                out.push(value.to_string());
            }
        }
    }
    out
}

async fn shared_widgets_show_no_amounts_unless_the_owner_says(kind: Kind) -> TestResult {
    // Three public reads per widget: past the default per-IP allowance.
    let app = TestApp::spawn_with(kind, |c| {
        c.rate_limit.per_ip_per_minute = 1000;
        c.rate_limit.burst = 1000;
    })
    .await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    pro(&app, "asha").await?;
    let sources = [
        (
            "metric",
            json!({ "type": "summary", "figures": ["value", "invested", "unrealized", "unrealizedPercent", "realized", "xirr", "holdings"] }),
        ),
        ("table", json!({ "type": "holdings", "sort": "value" })),
        (
            "pie",
            json!({ "type": "allocation", "by": "sector", "top": 1 }),
        ),
        ("donut", json!({ "type": "allocation", "by": "stock" })),
        (
            "bar",
            json!({ "type": "movers", "direction": "gainers", "measure": "amount", "n": 5 }),
        ),
        ("bar", json!({ "type": "realized", "byYear": true })),
        ("metric", json!({ "type": "position", "symbol": "TCS" })),
        ("table", json!({ "type": "trades" })),
        ("line", json!({ "type": "history", "range": "max" })),
        ("pie", json!({ "type": "concentration", "top": 2 })),
        ("bar", json!({ "type": "xirr", "perHolding": true })),
    ];
    for (kind, source) in sources {
        let made = create(
            &app,
            &asha,
            json!({ "title": format!("{kind} of {}", source["type"]), "kind": kind, "source": source, "visibility": "unlisted" }),
        )
        .await?;
        assert_eq!(made.status, StatusCode::CREATED, "{source}: {made:?}");
        let widget = made.json();
        let id = widget["id"].as_str().unwrap_or_default().to_string();
        assert_eq!(
            widget["hideAmounts"], true,
            "shared widgets hide amounts by default"
        );
        let link = path_of(&widget["shareUrl"]);
        assert!(link.starts_with("/shared/widgets/"), "{widget}");

        let own = app.get(&format!("/widgets/{id}/data"), Some(&asha)).await?;
        assert_eq!(own.status, StatusCode::OK);
        let own = own.json();
        assert_eq!(own["amountsHidden"], false);
        let secret = amounts(&own["data"]);

        let seen = app.get(&link, None).await?;
        assert_eq!(seen.status, StatusCode::OK, "{source}: {seen:?}");
        let body = seen.json();
        assert_eq!(body["data"]["amountsHidden"], true);
        assert_eq!(body["owner"], "asha");
        assert!(body.get("source").is_none(), "the source can hold amounts");
        for column in body["data"]["data"]["columns"]
            .as_array()
            .cloned()
            .unwrap_or_default()
        {
            assert!(
                !matches!(column["format"].as_str(), Some("money" | "quantity")),
                "{source}: {column}"
            );
        }
        for amount in &secret {
            assert!(
                !seen.text.contains(amount.as_str()),
                "{source}: {amount} reached another viewer: {}",
                seen.text
            );
        }
        assert!(
            !seen.text.contains("Paise") && !seen.text.contains("\"quantity\""),
            "{}",
            seen.text
        );
        // (History fills from daily snapshots, which an import alone does not make.)
        if matches!(
            source["type"].as_str(),
            Some("allocation" | "concentration" | "xirr")
        ) {
            assert!(
                !body["data"]["data"]["rows"]
                    .as_array()
                    .is_none_or(Vec::is_empty),
                "{source}: weights and returns still show: {body}"
            );
        }

        // Drawn, the same: no rupee sign anywhere in the picture.
        let own_chart = app
            .get(&format!("/widgets/{id}/chart.svg"), Some(&asha))
            .await?;
        assert_eq!(own_chart.status, StatusCode::OK);
        assert!(
            own_chart
                .header("content-type")
                .is_some_and(|t| t.starts_with("image/svg+xml")),
            "{own_chart:?}"
        );
        assert!(
            own_chart.text.starts_with("<svg")
                && own_chart.text.contains("<title id=\"chart-title\">")
        );
        let chart = app.get(&format!("{link}/chart.svg"), None).await?;
        assert_eq!(chart.status, StatusCode::OK, "{source}: {chart:?}");
        assert!(!chart.text.contains('₹'), "{source}: {}", chart.text);
        for amount in &secret {
            assert!(
                !chart.text.contains(amount.trim_matches('"')),
                "{source}: {amount}"
            );
        }

        // The owner shows amounts: now they are there.
        let shown = call(
            &app,
            Method::PATCH,
            &format!("/widgets/{id}"),
            Some(json!({ "hideAmounts": false })),
            &asha,
        )
        .await?;
        assert_eq!(shown.status, StatusCode::OK);
        let seen = app.get(&link, None).await?;
        assert_eq!(seen.status, StatusCode::OK, "{seen:?}");
        assert_eq!(seen.json()["data"]["data"], own["data"], "{source}");
    }
    app.stop().await
}

/// Width and height from a PNG's header.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    (bytes.len() > 24 && bytes[..8] == *b"\x89PNG\r\n\x1a\n").then(|| {
        let word = |at: usize| {
            u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
        };
        (word(16), word(20))
    })
}

async fn cards_are_link_preview_images(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let made = create(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "donut", "visibility": "unlisted",
            "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED);
    let id = made.json()["id"].as_str().unwrap_or_default().to_string();
    let link = path_of(&made.json()["shareUrl"]);
    for (path, token) in [
        (format!("/widgets/{id}/card.png"), Some(asha.as_str())),
        (format!("{link}/card.png"), None),
    ] {
        let res = app.client.get(app.url(&path));
        let res = match token {
            Some(token) => res.bearer_auth(token),
            None => res,
        }
        .send()
        .await?;
        assert_eq!(res.status(), StatusCode::OK, "{path}");
        assert_eq!(res.headers()["content-type"], "image/png");
        let bytes = res.bytes().await?;
        assert_eq!(png_size(&bytes), Some((1200, 630)), "{path}");
        assert!(
            bytes.len() > 10_000,
            "{path}: {} bytes is too little to be a chart",
            bytes.len()
        );
    }
    let ravi = app.signup("ravi").await?;
    let theirs = app
        .get(&format!("/widgets/{id}/card.png"), Some(&ravi))
        .await?;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);
    app.stop().await
}

async fn links_rotate_and_revoke(kind: Kind) -> TestResult {
    let app = TestApp::spawn(kind).await?;
    let asha = with_trades(&app, "asha", TRADEBOOK).await?;
    let made = create(
        &app,
        &asha,
        json!({ "title": "Sectors", "kind": "pie", "source": { "type": "allocation", "by": "sector" } }),
    )
    .await?;
    assert_eq!(made.status, StatusCode::CREATED);
    let widget = made.json();
    let id = widget["id"].as_str().unwrap_or_default().to_string();
    assert_eq!(widget["visibility"], "private");
    assert!(
        widget.get("shareUrl").is_none(),
        "private widgets have no link"
    );
    let refused = call(
        &app,
        Method::POST,
        &format!("/widgets/{id}/share"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{refused:?}");
    assert_eq!(refused.code(), "failed_precondition");

    let shared = call(
        &app,
        Method::PATCH,
        &format!("/widgets/{id}"),
        Some(json!({ "visibility": "public" })),
        &asha,
    )
    .await?;
    let first = path_of(&shared.json()["shareUrl"]);
    assert_eq!(app.get(&first, None).await?.status, StatusCode::OK);
    assert!(!first.contains(&id), "the link is not the id");

    let rotated = call(
        &app,
        Method::POST,
        &format!("/widgets/{id}/share"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(rotated.status, StatusCode::OK);
    let second = path_of(&rotated.json()["shareUrl"]);
    assert_ne!(first, second);
    let old = app.get(&first, None).await?;
    assert_eq!(
        old.status,
        StatusCode::NOT_FOUND,
        "rotating kills the old link"
    );
    assert_eq!(old.code(), "not_found");
    assert_eq!(app.get(&second, None).await?.status, StatusCode::OK);

    let revoked = call(
        &app,
        Method::DELETE,
        &format!("/widgets/{id}/share"),
        None,
        &asha,
    )
    .await?;
    assert_eq!(revoked.status, StatusCode::OK);
    assert_eq!(revoked.json()["visibility"], "private");
    assert_eq!(app.get(&second, None).await?.status, StatusCode::NOT_FOUND);
    // Sharing again makes a new link, never the old one.
    let again = call(
        &app,
        Method::PATCH,
        &format!("/widgets/{id}"),
        Some(json!({ "visibility": "unlisted" })),
        &asha,
    )
    .await?;
    let third = path_of(&again.json()["shareUrl"]);
    assert!(third != first && third != second);
    for junk in ["/shared/widgets/x", "/shared/widgets/%27%20or%201=1--"] {
        assert_eq!(
            app.get(junk, None).await?.status,
            StatusCode::NOT_FOUND,
            "{junk}"
        );
    }
    app.stop().await
}

crate::both_backends!(
    shared_widgets_show_no_amounts_unless_the_owner_says,
    cards_are_link_preview_images,
    links_rotate_and_revoke,
);
